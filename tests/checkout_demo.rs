//! `cargo run --example checkout` end to end, as a user runs it (short
//! load): the three report sections, plain text when not on a terminal,
//! and a JSON log file whose lines all parse and hold no secret.

#[path = "support/demo.rs"]
mod demo;

use std::process::Command;

#[test]
fn the_demo_prints_metrics_then_trace_then_logs() {
    let logs = std::env::temp_dir().join(format!(
        "observe-checkout-demo-test-{}.log",
        std::process::id()
    ));
    let output = Command::new(demo::demo_binary())
        .args(["--duration", "2", "--rps", "20", "--logs"])
        .arg(&logs)
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("RUST_LOG")
        .output()
        .expect("the demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "exit {:?}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );

    assert!(
        !stdout.contains('\x1b'),
        "colour only on a terminal:\n{stdout}"
    );
    let red = stdout.find("1. RED per flow").expect("the RED table");
    let trace = stdout
        .find("2. Slowest checkout trace")
        .expect("the waterfall");
    let lines = stdout
        .find("3. Log lines of trace")
        .expect("the trace's log lines");
    assert!(red < trace && trace < lines, "{stdout}");
    assert!(
        stdout.contains("Load: 40 checkout requests") && stdout.contains("0 without an answer"),
        "{stdout}"
    );
    let table = &stdout[red..trace];
    let checkout_row = table
        .lines()
        .find(|l| l.split_whitespace().take(2).eq(["checkout", "checkout"]))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        checkout_row.contains(" 40 ") && checkout_row.contains("/s") && checkout_row.contains("ms"),
        "{checkout_row}"
    );
    assert!(table.contains("POST /checkout"), "{table}");
    let waterfall = &stdout[trace..lines];
    assert!(
        waterfall.contains("POST /checkout") && waterfall.contains("└─ checkout"),
        "{waterfall}"
    );
    let trace_id = stdout[lines..]
        .split_whitespace()
        .nth(5)
        .expect("the trace id after the heading")
        .to_owned();
    assert_eq!(trace_id.len(), 32, "{}", &stdout[lines..]);
    assert!(waterfall.contains(&format!("trace_id {trace_id}")));

    let text = std::fs::read_to_string(&logs).unwrap();
    let _ = std::fs::remove_file(&logs);
    let mut of_trace = 0;
    for line in text.lines() {
        let fields: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        for secret in [
            "4111 1111 1111 1111",
            "4111111111111111",
            "sk_live_",
            "correct-horse",
        ] {
            assert!(!line.contains(secret), "{secret}: {line}");
        }
        if fields["trace_id"] == trace_id.as_str() {
            of_trace += 1;
        }
    }
    assert!(of_trace >= 3, "the trace's lines are in the log file");
}
