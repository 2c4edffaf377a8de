//! `cargo observe dashboard`: one Grafana dashboard per flow (classic JSON
//! model), built only from the metrics the macro emits (names from
//! `observe_attr::schema`): calls, errors, the duration histogram and the
//! in-flight gauge.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use observe_attr::schema::{self, label};
use serde_json::{Value, json};

use crate::error::Error;
use crate::num::fmt;
use crate::observed::ObservedFn;
use crate::slo::{self, Kind};
use crate::{frontend, output, workspace};

/// `cargo observe dashboard [PATHS] [--flow F] [--out-dir D | -o FILE]`.
#[derive(clap::Args, Debug)]
pub struct DashboardArgs {
    /// Files or directories to read (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Only this flow.
    #[arg(long)]
    pub flow: Option<String>,
    /// Write one `<flow>.json` per flow into this directory instead of
    /// printing (one dashboard object, or an array when several flows).
    #[arg(long, alias = "output-dir")]
    pub out_dir: Option<PathBuf>,
    /// Write what would be printed (one dashboard, or an array) to this
    /// file instead.
    #[arg(long, short = 'o', conflicts_with = "out_dir")]
    pub output: Option<PathBuf>,
}

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
    let q = slo::quote(flow);
    let (flow_key, function_key) = (label::FLOW, label::FUNCTION);
    let sel = format!("{flow_key}={q},{function_key}=~\"$function\"");
    let calls = schema::CALLS_TOTAL.name;
    let errors = schema::ERRORS_TOTAL.name;
    let in_flight = schema::CALLS_IN_FLIGHT.name;
    let (outcome_key, error_kind_key) = (label::OUTCOME, label::ERROR_KIND);
    // "ok, error, panic and cancelled".
    let outcomes = match schema::OUTCOME_NAMES.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    };
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
            &format!("Calls per second, every outcome ({calls})."),
            "reqps",
            vec![target(
                "A",
                format!("sum by ({function_key}) ({})", rate(calls, "")),
                &format!("{{{{{function_key}}}}}"),
            )],
        ),
        timeseries(
            &mut layout,
            "Error ratio by function",
            &format!(
                "Share of calls that ended in {}.",
                schema::failed_outcomes()
                    .map(|o| o.name)
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            "percentunit",
            vec![target(
                "A",
                format!(
                    "sum by ({function_key}) ({})\n/\nsum by ({function_key}) ({})",
                    rate(calls, &format!(",{}", slo::failed_matcher())),
                    rate(calls, "")
                ),
                &format!("{{{{{function_key}}}}}"),
            )],
        ),
        timeseries(
            &mut layout,
            "Latency p50 / p95 / p99 by function",
            &format!("From the {} histogram.", schema::CALL_DURATION_SECONDS.name),
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
                        "histogram_quantile({quantile}, sum by ({function_key}, {}) ({}))",
                        label::LE,
                        rate(&slo::duration_bucket(), "")
                    ),
                    &format!("{{{{{function_key}}}}} {name}"),
                )
            })
            .collect(),
        ),
        timeseries(
            &mut layout,
            "In flight by function",
            &format!("Calls running now ({in_flight})."),
            "short",
            vec![target(
                "A",
                format!("sum by ({function_key}) ({in_flight}{{{sel}}})"),
                &format!("{{{{{function_key}}}}}"),
            )],
        ),
        timeseries(
            &mut layout,
            "Errors by kind",
            &format!("Errors per second by {function_key} and {error_kind_key} ({errors})."),
            "reqps",
            vec![target(
                "A",
                format!(
                    "sum by ({function_key}, {error_kind_key}) ({})",
                    rate(errors, "")
                ),
                &format!("{{{{{function_key}}}}} {{{{{error_kind_key}}}}}"),
            )],
        ),
        timeseries(
            &mut layout,
            "Calls by outcome",
            &format!("{outcomes} calls per second."),
            "reqps",
            vec![target(
                "A",
                format!("sum by ({outcome_key}) ({})", rate(calls, "")),
                &format!("{{{{{outcome_key}}}}}"),
            )],
        ),
    ];

    // SLO burn: the 1h error (or slow-call) ratio divided by the budget;
    // 1 spends the budget exactly over 30 days, 14.4 pages.
    let objectives = slo::objectives(functions);
    let burn_targets: Vec<Value> = objectives
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let (bad, all) = o.rates("1h");
            let ratio = match &o.kind {
                Kind::Availability => format!("sum({bad}) / sum({all})"),
                Kind::Latency { .. } => format!("1 - (sum({bad}) / sum({all}))"),
            };
            let kind = o.kind_name();
            let ref_id = ((b'A' + (i % 26) as u8) as char).to_string() + &"A".repeat(i / 26);
            target(
                &ref_id,
                format!("({ratio}) / {}", fmt(o.budget())),
                &format!("{} {kind} ({}%)", o.function, fmt(o.target)),
            )
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
                    "query": { "query": format!("label_values({calls}{{{flow_key}={q}}}, {function_key})"), "refId": "function" },
                    "definition": format!("label_values({calls}{{{flow_key}={q}}}, {function_key})"),
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

/// Runs `cargo observe dashboard`.
pub fn run(args: DashboardArgs) -> Result<ExitCode, Error> {
    let files = workspace::discover(&args.paths)?;
    let report = frontend::scan(&files);
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
                    output::print(&text)?;
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
