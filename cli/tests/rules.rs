//! `cargo observe rules`: the generated rules pass the real
//! `promtool check rules`, and the generated unit tests pass
//! `promtool test rules` (each alert fires and stays quiet).

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// The real promtool. Missing promtool is a failure, never a skip.
fn promtool(args: &[&str], dir: &Path) -> (bool, String) {
    let output = Command::new("promtool").args(args).current_dir(dir).output().unwrap_or_else(|e| {
        panic!(
            "promtool could not be run ({e}). These tests need the real promtool from Debian's `prometheus` package: \
             `apt-get update && apt-get install -y --no-install-recommends prometheus` (scripts/test.sh does this)."
        )
    });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

fn generate(workspace: &Path, out: &Path) -> (String, String) {
    let rules = out.join("observe.rules.yml");
    let output = run(workspace, &["rules", "--output", rules.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let tests = out.join("observe.rules.test.yml");
    assert!(
        tests.is_file(),
        "the promtool unit-test file is written beside the rules"
    );
    (
        std::fs::read_to_string(rules).unwrap(),
        std::fs::read_to_string(tests).unwrap(),
    )
}

fn check_with_promtool(out: &Path) {
    // --lint-fatal: duplicate rules (same name and labels) fail too.
    let (ok, text) = promtool(
        &["check", "rules", "--lint-fatal", "observe.rules.yml"],
        out,
    );
    assert!(ok, "promtool check rules failed:\n{text}");
    assert!(!text.contains("FAILED"), "{text}");
    let (ok, text) = promtool(&["test", "rules", "observe.rules.test.yml"], out);
    assert!(ok, "promtool test rules failed:\n{text}");
}

#[test]
fn fixture_rules_pass_promtool_check_and_test() {
    let out = scratch("rules-fixture");
    let (rules, tests) = generate(&lint_ws(), &out);
    check_with_promtool(&out);

    // pay: availability 99.9 and 99% under 300ms.
    for window in ["5m", "30m", "1h", "2h", "6h", "1d", "3d"] {
        assert!(rules.contains(&format!(
            "record: flow_function:flow_call_errors:ratio_rate{window}"
        )));
        assert!(rules.contains(&format!(
            "record: flow_function:flow_call_slow:ratio_rate{window}"
        )));
    }
    assert!(rules.contains(
        "flow_calls_total{flow=\"checkout\",function=\"pay\",outcome=~\"error|panic\"}[5m]"
    ));
    assert!(rules.contains(
        "flow_call_duration_seconds_bucket{flow=\"checkout\",function=\"pay\",le=\"0.3\"}[1h]"
    ));
    // Burn thresholds for a 0.1% budget: 14.4x, 6x, 3x, 1x.
    for threshold in ["> 0.0144", "> 0.006", "> 0.003", "> 0.001"] {
        assert!(rules.contains(threshold), "missing {threshold}");
    }
    // ... and for the 1% latency budget.
    for threshold in ["> 0.144", "> 0.06", "> 0.03", "> 0.01"] {
        assert!(rules.contains(threshold), "missing {threshold}");
    }
    assert!(
        rules.contains("alert: FlowErrorBudgetBurn")
            && rules.contains("alert: FlowLatencyBudgetBurn")
    );
    assert!(rules.contains("severity: page") && rules.contains("severity: ticket"));
    assert!(
        rules.contains("summary: ")
            && rules.contains("runbook_url: \"https://runbooks.example.com/observe/checkout/pay\"")
    );
    // Functions without an slo(...) get no rules.
    assert!(!rules.contains("function=\"price\""));
    // The unit tests cover quiet, ticket-only and paging scenarios.
    assert_eq!(
        tests.matches("exp_alerts: []").count(),
        2,
        "healthy traffic fires nothing, per objective"
    );
    assert!(tests.contains("severity: page") && tests.contains("severity: ticket"));
}

#[test]
fn every_objective_shape_passes_promtool() {
    let dir = scratch("rules-shapes");
    write(
        &dir.join("Cargo.toml"),
        "[package]\nname = \"search\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    );
    write(
        &dir.join("src/lib.rs"),
        r#"
use observe::observe;

#[observe(flow = "search", slo(availability = 99.99))]
pub fn query(q: &str) -> Result<u32, String> { Ok(q.len() as u32) }

#[observe(flow = "search", slo(latency = "1s", percentile = 95.0))]
pub fn rank() {}

#[observe(flow = "search", slo(availability = 99.5))]
pub fn suggest() {}

#[observe(flow = "reports", name = "Reports::monthly", slo(availability = 90, latency = "2500ms", percentile = 50.0))]
pub fn monthly() {}

#[observe(flow = "reports.v2-eu", slo(latency = "25ms"))]
pub async fn daily() {}
"#,
    );
    let out = dir.join("out");
    let (rules, tests) = generate(&dir, &out);
    check_with_promtool(&out);
    // A whole-second threshold matches both spellings of the bucket bound.
    assert!(rules.contains("le=~\"1|1.0\""), "{rules}");
    assert!(rules.contains("le=\"2.5\""));
    assert!(rules.contains("le=\"0.025\""));
    // A 50% objective can never burn at 6x: its page alert cannot fire, and the
    // generated test expects exactly that.
    assert!(tests.contains("Reports::monthly latency: a fast burn at 20x the budget"));
    assert!(rules.contains("name: \"observe-slo-reports.v2-eu\""));
}

#[test]
fn without_output_the_rules_go_to_stdout() {
    let output = run(&lint_ws(), &["rules"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).starts_with("# Generated by `cargo observe rules`"));
    assert!(stdout(&output).contains("groups:\n  - name: \"observe-slo-checkout\""));
}

#[test]
fn no_slo_gives_an_empty_valid_rule_file() {
    let dir = scratch("rules-empty");
    write(
        &dir.join("src/lib.rs"),
        "#[observe::observe]\npub fn f() {}\n",
    );
    let out = dir.join("out");
    let (rules, _) = generate(&dir, &out);
    assert!(rules.contains("groups: []"));
    check_with_promtool(&out);
}

#[test]
fn functions_sharing_a_flow_get_unique_rules() {
    let dir = scratch("rules-shared-flow");
    write(
        &dir.join("Cargo.toml"),
        "[package]\nname = \"shop\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    );
    write(
        &dir.join("src/lib.rs"),
        r#"
use observe::observe;

#[observe(flow = "checkout", slo(availability = 99.9, latency = "300ms", percentile = 99.0))]
pub fn pay() {}

#[observe(flow = "checkout", slo(availability = 99.5, latency = "1s", percentile = 95.0))]
pub fn reserve() {}
"#,
    );
    let out = dir.join("out");
    let (rules, _) = generate(&dir, &out);
    check_with_promtool(&out);
    // Same record names, told apart by their static labels.
    assert_eq!(
        rules
            .matches("- record: flow_function:flow_call_errors:ratio_rate5m\n")
            .count(),
        2
    );
    for function in ["pay", "reserve"] {
        assert!(
            rules.contains(&format!(
                "          slo: \"availability\"\n          flow: \"checkout\"\n          function: \"{function}\"\n"
            )),
            "{rules}"
        );
        assert!(
            rules.contains(&format!(
                "          severity: page\n          slo: \"latency\"\n          flow: \"checkout\"\n          function: \"{function}\"\n"
            )),
            "{rules}"
        );
    }
}
