//! `cargo observe dashboard`: exemplars on the latency panel, and the
//! Grafana data-source provisioning file whose exemplar link goes to the
//! service's `/debug/traces`, a `--trace-url` template (Tempo, Jaeger) or
//! a trace data source.

mod common;

use common::{assert_snapshot, lint_ws, run, scratch, stderr, stdout};
use serde_json::Value;

#[test]
fn the_latency_panel_shows_exemplars() {
    let output = run(&lint_ws(), &["dashboard", "--flow", "checkout"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let board: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let panels = board["panels"].as_array().unwrap();
    for panel in panels {
        let latency = panel["title"] == "Latency p50 / p95 / p99 by function";
        for target in panel["targets"].as_array().into_iter().flatten() {
            let p99 = latency && target["legendFormat"] == "{{function}} p99";
            assert_eq!(
                target["exemplar"].as_bool().unwrap_or(false),
                p99,
                "{target}"
            );
        }
    }
}

#[test]
fn the_data_source_file_links_exemplars_to_the_trace() {
    let dir = scratch("dashboard-datasource");
    let output = run(
        &lint_ws(),
        &["dashboard", "--out-dir", dir.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let default = std::fs::read_to_string(dir.join("observe-datasource.yaml")).unwrap();
    assert_snapshot("datasource-debug-traces.yaml", &default);

    let file = dir.join("tempo.yaml");
    let output = run(
        &lint_ws(),
        &[
            "dashboard",
            "--flow",
            "checkout",
            "--datasource",
            file.to_str().unwrap(),
            "--prometheus-url",
            "http://prometheus:9090",
            "--trace-url",
            "http://tempo:3200/trace/{trace_id}?from='now-1h'",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let tempo = std::fs::read_to_string(&file).unwrap();
    assert_snapshot("datasource-trace-url.yaml", &tempo);

    let file = dir.join("uid.yaml");
    let output = run(
        &lint_ws(),
        &[
            "dashboard",
            "--flow",
            "checkout",
            "--datasource",
            file.to_str().unwrap(),
            "--trace-datasource-uid",
            "tempo",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let by_uid = std::fs::read_to_string(&file).unwrap();
    assert!(
        by_uid.ends_with("      exemplarTraceIdDestinations:\n        - name: trace_id\n          datasourceUid: 'tempo'\n"),
        "{by_uid}"
    );
}
