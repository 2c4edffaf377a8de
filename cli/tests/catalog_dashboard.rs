//! `cargo observe catalog` and `cargo observe dashboard` over the fixture.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn catalog_lists_every_valid_observe_function() {
    let output = run(&lint_ws(), &["catalog", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let functions = json["functions"].as_array().unwrap();
    let names: Vec<(&str, &str)> = functions
        .iter()
        .map(|f| (f["flow"].as_str().unwrap(), f["function"].as_str().unwrap()))
        .collect();
    // Invalid attributes (reserve, ship, cancel, Cart::clear) are not listed;
    // `Cart::len` opted out with #[observe(skip)].
    assert_eq!(
        names,
        [
            ("cart", "Cart::add"),
            ("checkout", "pay"),
            ("checkout", "price")
        ]
    );

    let pay = &functions[1];
    assert_eq!(pay["module"], "shop::checkout");
    assert_eq!(pay["file"], "crates/shop/src/checkout.rs");
    assert_eq!(pay["line"], 21);
    assert_eq!(pay["level"], "info");
    assert_eq!(pay["async"], true);
    assert_eq!(pay["labels"][0]["key"], "method");
    assert_eq!(pay["labels"][0]["type"], "PaymentMethod");
    assert_eq!(
        pay["labels"][0]["cardinality"], 3,
        "PaymentMethod derives Label with 3 variants"
    );
    assert_eq!(pay["series"], 12);
    assert_eq!(pay["slo"]["availability"], 99.9);
    assert_eq!(pay["slo"]["latency_ms"], 300.0);
    assert_eq!(pay["slo"]["percentile"], 99.0);

    let price = &functions[2];
    assert_eq!(price["level"], "debug");
    assert_eq!(price["sample"], 0.1);
    assert_eq!(price["slow_ms"], 250.0);
}

#[test]
fn catalog_table_and_markdown() {
    let table = stdout(&run(&lint_ws(), &["catalog"]));
    assert_snapshot("catalog.txt", &table);
    let markdown = stdout(&run(&lint_ws(), &["catalog", "--format", "markdown"]));
    assert!(markdown.starts_with(
        "| Flow | Function | Module | Location | Labels | Series | SLO | Level | Sample |\n|---|"
    ));
    assert_snapshot("catalog.md", &markdown);
}

const MACRO_METRICS: [&str; 4] = [
    "flow_calls_total",
    "flow_errors_total",
    "flow_call_duration_seconds_bucket",
    "flow_calls_in_flight",
];

/// Every metric name in a PromQL expression (identifiers followed by `{`).
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let bytes: Vec<char> = expr.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphabetic() || bytes[i] == '_' {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == '_' || bytes[i] == ':')
            {
                i += 1;
            }
            if bytes.get(i) == Some(&'{') {
                names.push(bytes[start..i].iter().collect());
            }
        } else {
            i += 1;
        }
    }
    names
}

fn check_dashboard(board: &Value, flow: &str) {
    assert!(
        board["schemaVersion"].as_u64().unwrap() >= 39,
        "a current Grafana schema version"
    );
    assert_eq!(board["title"], format!("observe: {flow}"));
    assert!(board["uid"].as_str().unwrap().len() <= 40);
    let templating = board["templating"]["list"].as_array().unwrap();
    let datasource = templating
        .iter()
        .find(|v| v["type"] == "datasource")
        .expect("a datasource variable");
    assert_eq!(datasource["query"], "prometheus");
    let panels = board["panels"].as_array().unwrap();
    assert!(panels.len() >= 7);
    let mut ids = Vec::new();
    let mut titles = Vec::new();
    for panel in panels {
        ids.push(panel["id"].as_u64().unwrap());
        titles.push(panel["title"].as_str().unwrap().to_string());
        let pos = &panel["gridPos"];
        assert!(
            pos["w"].as_u64().unwrap() <= 24
                && pos["x"].as_u64().unwrap() + pos["w"].as_u64().unwrap() <= 24
        );
        if panel["type"] == "text" {
            continue;
        }
        assert_eq!(panel["type"], "timeseries");
        assert_eq!(panel["datasource"]["uid"], "${datasource}");
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "panel {} has targets", panel["title"]);
        for target in targets {
            let expr = target["expr"].as_str().unwrap();
            assert!(!target["refId"].as_str().unwrap().is_empty());
            for name in metric_names(expr) {
                assert!(
                    MACRO_METRICS.contains(&name.as_str())
                        || name == "flow_call_duration_seconds_count",
                    "{name} in {expr}"
                );
            }
            assert!(expr.contains(&format!("flow=\"{flow}\"")), "{expr}");
        }
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), panels.len(), "unique panel ids");
    for wanted in [
        "Call rate",
        "Error ratio",
        "Latency p50 / p95 / p99",
        "In flight",
        "SLO burn rate",
    ] {
        assert!(
            titles.iter().any(|t| t.starts_with(wanted)),
            "{wanted} in {titles:?}"
        );
    }
}

#[test]
fn one_dashboard_per_flow() {
    let output = run(&lint_ws(), &["dashboard"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let boards: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let boards = boards.as_array().expect("two flows: an array");
    assert_eq!(boards.len(), 2);
    check_dashboard(&boards[0], "cart");
    check_dashboard(&boards[1], "checkout");
    let text = boards[1].to_string();
    assert!(text.contains("histogram_quantile(0.99"));
    assert!(
        text.contains("/ 0.001"),
        "availability burn divides by the 0.1% budget"
    );

    let dir = scratch("dashboards");
    let output = run(
        &lint_ws(),
        &["dashboard", "--out-dir", dir.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(0));
    let checkout: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("checkout.json")).unwrap()).unwrap();
    check_dashboard(&checkout, "checkout");
    assert!(dir.join("cart.json").is_file());

    let single = run(&lint_ws(), &["dashboard", "--flow", "checkout"]);
    let board: Value = serde_json::from_str(&stdout(&single)).unwrap();
    assert!(board.is_object());
    assert_eq!(
        run(&lint_ws(), &["dashboard", "--flow", "nope"])
            .status
            .code(),
        Some(2)
    );
}
