//! The demo under the default `info` filter: its first output line is the
//! admin listener's address, and section 3 shows the DEBUG lines of the
//! payment path that were held for the failed (or slow) trace and written
//! because it failed.

#[path = "support/demo.rs"]
mod demo;

use std::process::Command;

#[test]
fn section_3_shows_the_buffered_debug_lines() {
    let logs = std::env::temp_dir().join(format!("observe-logs-demo-{}.log", std::process::id()));
    let output = Command::new(demo::demo_binary())
        // 180 requests: a run without one failed or slow checkout (about 6%
        // of them fail) is about one in 100,000.
        .args(["--duration", "3", "--rps", "60", "--logs"])
        .arg(&logs)
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("RUST_LOG")
        .env_remove("OBSERVE_LOG_BUFFER")
        .output()
        .expect("the demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");

    let first = stdout.lines().next().unwrap_or_default();
    let addr = first
        .strip_prefix("admin on 127.0.0.1:")
        .unwrap_or_else(|| panic!("first line: {first:?}"));
    assert!(addr.parse::<u16>().is_ok_and(|port| port > 0), "{first}");

    let section = &stdout[stdout.find("3. Log lines of trace").expect("section 3")..];
    let buffered: Vec<&str> = section
        .lines()
        .filter(|l| l.contains(" DEBUG ") && l.contains("(buffered"))
        .collect();
    assert!(
        buffered
            .iter()
            .any(|l| l.contains("calling the payment provider")),
        "{section}"
    );

    // In the log file: the DEBUG lines written are exactly the flushed ones.
    let text = std::fs::read_to_string(&logs).unwrap();
    let _ = std::fs::remove_file(&logs);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let debug: Vec<&serde_json::Value> = lines.iter().filter(|l| l["level"] == "DEBUG").collect();
    assert!(!debug.is_empty());
    for line in debug {
        assert_eq!(line["log.buffered"], true, "{line}");
        assert_eq!(line["flow"], "payment", "{line}");
    }
}
