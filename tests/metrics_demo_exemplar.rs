//! The checkout demo prints, under its RED table, the exemplar of
//! checkout's slowest latency bucket, and section 2 draws that trace.

#[path = "support/demo.rs"]
mod demo;

use std::process::Command;

#[test]
fn the_demo_shows_the_slowest_buckets_exemplar_and_draws_its_trace() {
    let output = Command::new(demo::demo_binary())
        .args(["--duration", "2", "--rps", "20"])
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("RUST_LOG")
        .output()
        .expect("the demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let red = stdout.find("1. RED per flow").expect("the RED table");
    let trace = stdout
        .find("2. Slowest checkout trace")
        .expect("the waterfall");
    let line = stdout[red..trace]
        .lines()
        .find(|l| l.starts_with("Exemplar of checkout's slowest bucket (le=\""))
        .unwrap_or_else(|| panic!("no exemplar line under the RED table:\n{stdout}"));
    let le = line
        .split("le=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    assert!(le == "+Inf" || le.parse::<f64>().is_ok(), "{line}");
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| *w == "trace_id")
        .expect("trace_id");
    let trace_id = words[at + 1];
    assert_eq!(trace_id.len(), 32, "{line}");
    assert_eq!(words[at + 2], "span_id", "{line}");
    assert!(line.ends_with("drawn in section 2."), "{line}");
    let section = &stdout[trace..];
    assert!(
        section.contains("The trace of the exemplar above."),
        "{section}"
    );
    assert!(
        section.contains(&format!("trace_id {trace_id}")),
        "{section}"
    );
    assert!(section.contains("└─ checkout"), "{section}");
}
