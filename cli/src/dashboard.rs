//! `cargo observe dashboard`: one Grafana dashboard per flow (classic JSON
//! model), built only from the metrics the macro emits:
//! `flow_calls_total`, `flow_errors_total`, `flow_call_duration_seconds`
//! and `flow_calls_in_flight`.

use std::path::Path;
use std::process::ExitCode;

use serde_json::{Value, json};

use crate::cli::DashboardArgs;
use crate::num::fmt;
use crate::observed::ObservedFn;
use crate::rules::{self, Kind};
use crate::{Error, lint, workspace};

/// The dashboard JSON schema version written (Grafana 12's classic model;
/// newer Grafana versions migrate it on import).
pub const SCHEMA_VERSION: u64 = 41;

const DATASOURCE: &str = "${datasource}";

fn datasource() -> Value {
    json!({ "type": "prometheus", "uid": DATASOURCE })
}

fn target(ref_id: &str, expr: String, legend: &str) -> Value {
    json!({ "refId": ref_id, "datasource": datasource(), "expr": expr, "legendFormat": legend, "range": true })
}

struct Layout {
    next_id: u64,
    y: u64,
    x: u64,
}

impl Layout {
    /// Places a panel of width `w` (of 24) and height 8, wrapping rows.
    fn place(&mut self, w: u64) -> (u64, Value) {
        if self.x + w > 24 {
            self.x = 0;
            self.y += 8;
        }
        let pos = json!({ "h": 8, "w": w, "x": self.x, "y": self.y });
        self.x += w;
        let id = self.next_id;
        self.next_id += 1;
        (id, pos)
    }
}

fn timeseries(
    layout: &mut Layout,
    title: &str,
    description: &str,
    unit: &str,
    targets: Vec<Value>,
) -> Value {
    let (id, pos) = layout.place(12);
    json!({
        "id": id,
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": datasource(),
        "gridPos": pos,
        "targets": targets,
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "custom": { "drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never" },
            },
            "overrides": [],
        },
        "options": {
            "legend": { "displayMode": "list", "placement": "bottom", "showLegend": true },
            "tooltip": { "mode": "multi", "sort": "desc" },
        },
    })
}

/// The dashboard of one flow; `functions` are the flow's functions.
pub fn dashboard(flow: &str, functions: &[ObservedFn]) -> Value {
    let q = serde_json::to_string(flow).expect("strings serialize");
    let sel = format!("flow={q},function=~\"$function\"");
    let rate =
        |metric: &str, extra: &str| format!("rate({metric}{{{sel}{extra}}}[$__rate_interval])");
    let mut layout = Layout {
        next_id: 1,
        y: 0,
        x: 0,
    };
    let mut panels = vec![
        timeseries(
            &mut layout,
            "Call rate by function",
            "Calls per second, every outcome (flow_calls_total).",
            "reqps",
            vec![target(
                "A",
                format!("sum by (function) ({})", rate("flow_calls_total", "")),
                "{{function}}",
            )],
        ),
        timeseries(
            &mut layout,
            "Error ratio by function",
            "Share of calls that ended in error or panic.",
            "percentunit",
            vec![target(
                "A",
                format!(
                    "sum by (function) ({})\n/\nsum by (function) ({})",
                    rate("flow_calls_total", ",outcome=~\"error|panic\""),
                    rate("flow_calls_total", "")
                ),
                "{{function}}",
            )],
        ),
        timeseries(
            &mut layout,
            "Latency p50 / p95 / p99 by function",
            "From the flow_call_duration_seconds histogram.",
            "s",
            [
                ("A", "0.5", "p50"),
                ("B", "0.95", "p95"),
                ("C", "0.99", "p99"),
            ]
            .into_iter()
            .map(|(r, quantile, name)| {
                target(
                    r,
                    format!(
                        "histogram_quantile({quantile}, sum by (function, le) ({}))",
                        rate("flow_call_duration_seconds_bucket", "")
                    ),
                    &format!("{{{{function}}}} {name}"),
                )
            })
            .collect(),
        ),
        timeseries(
            &mut layout,
            "In flight by function",
            "Calls running now (flow_calls_in_flight).",
            "short",
            vec![target(
                "A",
                format!("sum by (function) (flow_calls_in_flight{{{sel}}})"),
                "{{function}}",
            )],
        ),
        timeseries(
            &mut layout,
            "Errors by kind",
            "Errors per second by function and error_kind (flow_errors_total).",
            "reqps",
            vec![target(
                "A",
                format!(
                    "sum by (function, error_kind) ({})",
                    rate("flow_errors_total", "")
                ),
                "{{function}} {{error_kind}}",
            )],
        ),
        timeseries(
            &mut layout,
            "Calls by outcome",
            "ok, error, panic and cancelled calls per second.",
            "reqps",
            vec![target(
                "A",
                format!("sum by (outcome) ({})", rate("flow_calls_total", "")),
                "{{outcome}}",
            )],
        ),
    ];

    // SLO burn: the 1h error (or slow-call) ratio divided by the budget;
    // 1 spends the budget exactly over 30 days, 14.4 pages.
    let objectives = rules::objectives(functions);
    let burn_targets: Vec<Value> = objectives
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let f = serde_json::to_string(&o.function).expect("strings serialize");
            let s = format!("flow={q},function={f}");
            let ratio = match &o.kind {
                Kind::Availability => format!(
                    "sum(rate(flow_calls_total{{{s},outcome=~\"error|panic\"}}[1h])) / sum(rate(flow_calls_total{{{s}}}[1h]))"
                ),
                Kind::Latency { seconds } => format!(
                    "1 - (sum(rate(flow_call_duration_seconds_bucket{{{s},{}}}[1h])) / sum(rate(flow_call_duration_seconds_count{{{s}}}[1h])))",
                    rules::le_matcher(*seconds)
                ),
            };
            let kind = match o.kind {
                Kind::Availability => "availability",
                Kind::Latency { .. } => "latency",
            };
            let ref_id = ((b'A' + (i % 26) as u8) as char).to_string() + &"A".repeat(i / 26);
            target(&ref_id, format!("({ratio}) / {}", fmt(o.budget())), &format!("{} {kind} ({}%)", o.function, fmt(o.target)))
        })
        .collect();
    let mut burn = if burn_targets.is_empty() {
        let (id, pos) = layout.place(24);
        json!({
            "id": id,
            "type": "text",
            "title": "SLO burn rate",
            "gridPos": pos,
            "options": { "mode": "markdown", "content": "No function of this flow has an `slo(...)`: add one to `#[observe]` to see its burn rate here." },
        })
    } else {
        let mut panel = timeseries(
            &mut layout,
            "SLO burn rate (1h)",
            "Error-budget burn rate over the last hour per objective: 1 = the budget lasts exactly 30 days; the page alert needs 14.4 (1h) or 6 (6h).",
            "short",
            burn_targets,
        );
        panel["gridPos"]["w"] = json!(24);
        panel["fieldConfig"]["defaults"]["thresholds"] = json!({
            "mode": "absolute",
            "steps": [
                { "color": "green", "value": null },
                { "color": "orange", "value": 1 },
                { "color": "red", "value": 14.4 },
            ],
        });
        panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"] = json!({ "mode": "line" });
        panel
    };
    burn["gridPos"]["x"] = json!(0);
    panels.push(burn);

    let uid: String = format!("observe-{flow}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    json!({
        "uid": uid,
        "title": format!("observe: {flow}"),
        "description": format!("Flow `{flow}`: generated by `cargo observe dashboard` from the #[observe] functions of the workspace."),
        "tags": ["observe", flow],
        "timezone": "browser",
        "editable": true,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "refresh": "30s",
        "time": { "from": "now-6h", "to": "now" },
        "links": [],
        "annotations": {
            "list": [{
                "builtIn": 1,
                "datasource": { "type": "grafana", "uid": "-- Grafana --" },
                "enable": true,
                "hide": true,
                "iconColor": "rgba(0, 211, 255, 1)",
                "name": "Annotations & Alerts",
                "type": "dashboard",
            }]
        },
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Data source",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {},
                    "hide": 0,
                    "refresh": 1,
                    "regex": "",
                    "options": [],
                },
                {
                    "name": "function",
                    "label": "Function",
                    "type": "query",
                    "datasource": datasource(),
                    "query": { "query": format!("label_values(flow_calls_total{{flow={q}}}, function)"), "refId": "function" },
                    "definition": format!("label_values(flow_calls_total{{flow={q}}}, function)"),
                    "includeAll": true,
                    "multi": true,
                    "allValue": ".*",
                    "current": { "selected": true, "text": ["All"], "value": ["$__all"] },
                    "refresh": 2,
                    "sort": 1,
                    "hide": 0,
                    "options": [],
                },
            ]
        },
        "panels": panels,
    })
}

/// Every flow's dashboard, by flow name.
pub fn dashboards(functions: &[ObservedFn]) -> Vec<(String, Value)> {
    let mut flows: Vec<&str> = functions.iter().map(|f| f.flow.as_str()).collect();
    flows.sort();
    flows.dedup();
    flows
        .into_iter()
        .map(|flow| {
            let in_flow: Vec<ObservedFn> = functions
                .iter()
                .filter(|f| f.flow == flow)
                .cloned()
                .collect();
            (flow.to_string(), dashboard(flow, &in_flow))
        })
        .collect()
}

pub fn run(args: DashboardArgs) -> Result<ExitCode, Error> {
    let files = workspace::discover(&args.paths)?;
    let report = lint::scan(&files);
    let mut boards = dashboards(&report.observed());
    if let Some(flow) = &args.flow {
        boards.retain(|(name, _)| name == flow);
        if boards.is_empty() {
            return Err(Error(format!(
                "no #[observe] function belongs to flow `{flow}`"
            )));
        }
    }
    if boards.is_empty() {
        eprintln!("note: no #[observe] function found; no dashboard to write");
    }
    match &args.out_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| Error(format!("{}: {e}", dir.display())))?;
            for (flow, board) in &boards {
                let path = dir.join(format!("{}.json", file_name(flow)));
                write_json(&path, board)?;
                eprintln!("wrote {}", path.display());
            }
        }
        None => {
            let value = match boards.len() {
                1 => boards.remove(0).1,
                _ => Value::Array(boards.into_iter().map(|(_, b)| b).collect()),
            };
            match &args.output {
                Some(path) => {
                    write_json(path, &value)?;
                    eprintln!("wrote {}", path.display());
                }
                None => {
                    let mut text =
                        serde_json::to_string_pretty(&value).expect("dashboards serialize");
                    text.push('\n');
                    crate::cli::print(&text)?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn file_name(flow: &str) -> String {
    flow.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn write_json(path: &Path, value: &Value) -> Result<(), Error> {
    let mut text = serde_json::to_string_pretty(value).expect("dashboards serialize");
    text.push('\n');
    std::fs::write(path, text).map_err(|e| Error(format!("{}: {e}", path.display())))
}
