//! `cargo observe rules`: Prometheus recording rules and multi-window,
//! multi-burn-rate alerts (SRE workbook, chapter 5) for every function
//! with an `slo(...)`, and a `promtool test rules` file that makes each
//! alert fire and stay quiet.
//!
//! Metrics read (as the macro emits them):
//! - `flow_calls_total{flow,function,module,outcome}`: errors are the
//!   `error` and `panic` outcomes; `cancelled` calls count as traffic only.
//! - `flow_call_duration_seconds_bucket{...,le}` and `_count`: the latency
//!   threshold must be one of the exporter's bucket boundaries.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::RulesArgs;
use crate::num::fmt;
use crate::observed::ObservedFn;
use crate::{Error, lint, workspace};

pub const DEFAULT_RUNBOOK: &str = "https://runbooks.example.com/observe/{flow}/{function}";

/// The recording windows every objective gets.
pub const WINDOWS: [&str; 7] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];

/// One multi-window condition: both the long and the short window burn
/// faster than `factor` times the budget.
pub struct Burn {
    pub long: &'static str,
    pub short: &'static str,
    pub factor: f64,
    pub severity: &'static str,
}

/// The SRE workbook's recommended pairs.
pub const BURNS: [Burn; 4] = [
    Burn {
        long: "1h",
        short: "5m",
        factor: 14.4,
        severity: "page",
    },
    Burn {
        long: "6h",
        short: "30m",
        factor: 6.0,
        severity: "page",
    },
    Burn {
        long: "1d",
        short: "2h",
        factor: 3.0,
        severity: "ticket",
    },
    Burn {
        long: "3d",
        short: "6h",
        factor: 1.0,
        severity: "ticket",
    },
];

pub const ERROR_ALERT: &str = "FlowErrorBudgetBurn";
pub const LATENCY_ALERT: &str = "FlowLatencyBudgetBurn";

/// What an objective measures.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// `availability = 99.9`: at most 0.1% of calls end in error or panic.
    Availability,
    /// `latency = "300ms", percentile = 99.0`: at most 1% of calls slower
    /// than the threshold (in seconds).
    Latency { seconds: f64 },
}

/// One objective of one function.
#[derive(Clone, Debug)]
pub struct Objective {
    pub flow: String,
    pub function: String,
    pub kind: Kind,
    /// The target percentage (99.9).
    pub target: f64,
}

impl Objective {
    /// The error budget as a ratio: 0.001 for 99.9%.
    pub fn budget(&self) -> f64 {
        (((100.0 - self.target) / 100.0) * 1e12).round() / 1e12
    }

    fn selector(&self) -> String {
        format!(
            "flow={},function={}",
            quote(&self.flow),
            quote(&self.function)
        )
    }

    fn slo_label(&self) -> &'static str {
        match self.kind {
            Kind::Availability => "availability",
            Kind::Latency { .. } => "latency",
        }
    }

    pub fn record_name(&self, window: &str) -> String {
        match self.kind {
            Kind::Availability => format!("flow_function:flow_call_errors:ratio_rate{window}"),
            Kind::Latency { .. } => format!("flow_function:flow_call_slow:ratio_rate{window}"),
        }
    }

    pub fn alert_name(&self) -> &'static str {
        match self.kind {
            Kind::Availability => ERROR_ALERT,
            Kind::Latency { .. } => LATENCY_ALERT,
        }
    }

    fn record_expr(&self, window: &str) -> String {
        let sel = self.selector();
        match &self.kind {
            Kind::Availability => format!(
                "sum by (flow, function) (rate(flow_calls_total{{{sel},outcome=~\"error|panic\"}}[{window}]))\n\
                 /\n\
                 sum by (flow, function) (rate(flow_calls_total{{{sel}}}[{window}]))"
            ),
            Kind::Latency { seconds } => format!(
                "1 - (\n  sum by (flow, function) (rate(flow_call_duration_seconds_bucket{{{sel},{}}}[{window}]))\n  /\n  \
                 sum by (flow, function) (rate(flow_call_duration_seconds_count{{{sel}}}[{window}]))\n)",
                le_matcher(*seconds)
            ),
        }
    }

    /// The alert expression for one severity: any of its window pairs.
    fn alert_expr(&self, severity: &str) -> String {
        let sel = self.selector();
        let budget = self.budget();
        BURNS
            .iter()
            .filter(|b| b.severity == severity)
            .map(|b| {
                let threshold = fmt(b.factor * budget);
                format!(
                    "(\n  {long}{{{sel}}} > {threshold}\n  and\n  {short}{{{sel}}} > {threshold}\n)",
                    long = self.record_name(b.long),
                    short = self.record_name(b.short),
                )
            })
            .collect::<Vec<_>>()
            .join("\nor\n")
    }

    fn what(&self) -> String {
        match &self.kind {
            Kind::Availability => format!("{}% availability", fmt(self.target)),
            Kind::Latency { seconds } => {
                format!(
                    "{}% of calls under {}",
                    fmt(self.target),
                    crate::num::fmt_ms(seconds * 1000.0)
                )
            }
        }
    }

    /// The annotations of the alert at `severity`: fixed text, so that
    /// the promtool tests can expect them exactly.
    pub fn annotations(&self, severity: &str, runbook: &str) -> Vec<(&'static str, String)> {
        let speed = if severity == "page" {
            "fast"
        } else {
            "steadily"
        };
        let budget_kind = match self.kind {
            Kind::Availability => "error budget",
            Kind::Latency { .. } => "latency budget",
        };
        vec![
            (
                "summary",
                format!(
                    "{}/{} is burning its {} {speed} ({})",
                    self.flow,
                    self.function,
                    budget_kind,
                    self.what()
                ),
            ),
            (
                "description",
                format!(
                    "Flow `{}`, function `{}` ({} objective {}): at this burn rate the {} runs out {}. \
                     Check recent deploys, dependencies and the flow's dashboard.",
                    self.flow,
                    self.function,
                    self.slo_label(),
                    self.what(),
                    budget_kind,
                    if severity == "page" {
                        "within days"
                    } else {
                        "before the end of the 30-day window"
                    }
                ),
            ),
            (
                "runbook_url",
                runbook
                    .replace("{flow}", &self.flow)
                    .replace("{function}", &self.function),
            ),
        ]
    }
}

/// `le="0.3"`; an integral threshold matches both `1` and `1.0`, which
/// exporters and Prometheus versions write differently.
pub fn le_matcher(seconds: f64) -> String {
    let text = fmt(seconds);
    if seconds.fract() == 0.0 {
        format!("le=~\"{text}|{text}.0\"")
    } else {
        format!("le=\"{text}\"")
    }
}

/// A double-quoted string (JSON escaping is valid in both YAML and PromQL).
fn quote(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialize")
}

/// Every objective of the catalog, one per (flow, function, kind).
pub fn objectives(functions: &[ObservedFn]) -> Vec<Objective> {
    let mut out: Vec<Objective> = Vec::new();
    let mut sorted: Vec<&ObservedFn> = functions.iter().filter(|f| f.slo.is_some()).collect();
    sorted.sort_by(|a, b| (&a.flow, &a.function).cmp(&(&b.flow, &b.function)));
    for f in sorted {
        let slo = f.slo.as_ref().expect("filtered");
        let mut push = |kind: Kind, target: f64| {
            if out
                .iter()
                .any(|o| o.flow == f.flow && o.function == f.function && o.slo_label_eq(&kind))
            {
                eprintln!(
                    "warning: {}:{}: another function is also named `{}` in flow `{}`; its SLO is skipped \
                     (give one of them a distinct `name`)",
                    f.file, f.line, f.function, f.flow
                );
                return;
            }
            out.push(Objective {
                flow: f.flow.clone(),
                function: f.function.clone(),
                kind,
                target,
            });
        };
        if let Some(a) = slo.availability {
            push(Kind::Availability, a);
        }
        if let (Some(seconds), Some(p)) = (slo.latency_seconds(), slo.percentile) {
            push(Kind::Latency { seconds }, p);
        }
    }
    out
}

impl Objective {
    fn slo_label_eq(&self, kind: &Kind) -> bool {
        std::mem::discriminant(&self.kind) == std::mem::discriminant(kind)
    }
}

fn block(out: &mut String, indent: usize, text: &str) {
    for line in text.lines() {
        out.push_str(&" ".repeat(indent));
        out.push_str(line);
        out.push('\n');
    }
}

/// The rule file: one group per flow, recording rules first.
pub fn rules_yaml(objectives: &[Objective], runbook: &str) -> String {
    let mut out = String::from(
        "# Generated by `cargo observe rules`: SLO recording rules and multi-window,\n\
         # multi-burn-rate alerts (page: 1h/5m at 14.4x, 6h/30m at 6x; ticket: 1d/2h at 3x, 3d/6h at 1x).\n\
         # Latency objectives need a histogram bucket boundary at their threshold.\n",
    );
    if objectives.is_empty() {
        out.push_str("groups: []\n");
        return out;
    }
    out.push_str("groups:\n");
    let mut flows: Vec<&str> = objectives.iter().map(|o| o.flow.as_str()).collect();
    flows.dedup();
    for flow in flows {
        out.push_str(&format!(
            "  - name: {}\n    rules:\n",
            quote(&format!("observe-slo-{flow}"))
        ));
        let in_flow: Vec<&Objective> = objectives.iter().filter(|o| o.flow == flow).collect();
        for o in &in_flow {
            for window in WINDOWS {
                out.push_str(&format!("      - record: {}\n", o.record_name(window)));
                out.push_str("        expr: |-\n");
                block(&mut out, 10, &o.record_expr(window));
                out.push_str("        labels:\n");
                out.push_str(&format!("          slo: {}\n", quote(o.slo_label())));
            }
        }
        for o in &in_flow {
            for severity in ["page", "ticket"] {
                out.push_str(&format!("      - alert: {}\n", o.alert_name()));
                out.push_str("        expr: |-\n");
                block(&mut out, 10, &o.alert_expr(severity));
                out.push_str("        labels:\n");
                out.push_str(&format!("          severity: {severity}\n"));
                out.push_str(&format!("          slo: {}\n", quote(o.slo_label())));
                out.push_str("        annotations:\n");
                for (key, value) in o.annotations(severity, runbook) {
                    out.push_str(&format!("          {key}: {}\n", quote(&value)));
                }
            }
        }
    }
    out
}

/// Calls per minute in the synthetic series.
const CALLS_PER_MINUTE: f64 = 1_000_000.0;

/// The promtool unit tests: for each objective, healthy traffic (no
/// alert), a slow burn at 2x the budget (ticket only) and a fast burn at
/// 20x (page and ticket).
pub fn tests_yaml(objectives: &[Objective], rules_file: &str, runbook: &str) -> String {
    let mut out = String::from(
        "# Generated by `cargo observe rules`: run with `promtool test rules <this file>`.\n",
    );
    out.push_str(&format!(
        "rule_files:\n  - {}\nevaluation_interval: 1m\n",
        quote(rules_file)
    ));
    if objectives.is_empty() {
        out.push_str("tests: []\n");
        return out;
    }
    out.push_str("tests:\n");
    for o in objectives {
        let b = o.budget();
        let scenarios = [
            ("healthy traffic", 0.0),
            ("a slow burn at 2x the budget", 2.0 * b),
            ("a fast burn at 20x the budget", (20.0 * b).min(1.0)),
        ];
        for (name, bad_ratio) in scenarios {
            out.push_str(&format!(
                "  - name: {}\n    interval: 1m\n    input_series:\n",
                quote(&format!(
                    "{}/{} {}: {name}",
                    o.flow,
                    o.function,
                    o.slo_label()
                ))
            ));
            let labels = format!(
                "flow={},function={},module=\"synthetic\"",
                quote(&o.flow),
                quote(&o.function)
            );
            let bad = fmt(bad_ratio * CALLS_PER_MINUTE);
            let good = fmt((1.0 - bad_ratio) * CALLS_PER_MINUTE);
            let series: Vec<(String, String)> = match &o.kind {
                Kind::Availability => vec![
                    (format!("flow_calls_total{{{labels},outcome=\"ok\"}}"), good),
                    (
                        format!("flow_calls_total{{{labels},outcome=\"error\"}}"),
                        bad,
                    ),
                ],
                Kind::Latency { seconds } => vec![
                    (
                        format!(
                            "flow_call_duration_seconds_bucket{{{labels},outcome=\"ok\",le=\"{}\"}}",
                            fmt(*seconds)
                        ),
                        good,
                    ),
                    (
                        format!(
                            "flow_call_duration_seconds_bucket{{{labels},outcome=\"ok\",le=\"+Inf\"}}"
                        ),
                        fmt(CALLS_PER_MINUTE),
                    ),
                    (
                        format!("flow_call_duration_seconds_count{{{labels},outcome=\"ok\"}}"),
                        fmt(CALLS_PER_MINUTE),
                    ),
                ],
            };
            for (series, per_minute) in series {
                out.push_str(&format!(
                    "      - series: {}\n        values: \"0+{per_minute}x300\"\n",
                    quote(&series)
                ));
            }
            out.push_str("    alert_rule_test:\n");
            // Steady traffic: every window sees the same ratio, so an alert
            // fires when the ratio beats its lowest burn threshold.
            let fires = |severity: &str| {
                BURNS
                    .iter()
                    .filter(|burn| burn.severity == severity)
                    .any(|burn| bad_ratio > burn.factor * b * 1.000001)
            };
            out.push_str(&format!(
                "      - eval_time: 4h\n        alertname: {}\n",
                o.alert_name()
            ));
            let firing: Vec<&str> = ["page", "ticket"]
                .into_iter()
                .filter(|s| fires(s))
                .collect();
            if firing.is_empty() {
                out.push_str("        exp_alerts: []\n");
                continue;
            }
            out.push_str("        exp_alerts:\n");
            for severity in firing {
                out.push_str("          - exp_labels:\n");
                out.push_str(&format!("              severity: {severity}\n"));
                out.push_str(&format!("              slo: {}\n", quote(o.slo_label())));
                out.push_str(&format!("              flow: {}\n", quote(&o.flow)));
                out.push_str(&format!("              function: {}\n", quote(&o.function)));
                out.push_str("            exp_annotations:\n");
                for (key, value) in o.annotations(severity, runbook) {
                    out.push_str(&format!("              {key}: {}\n", quote(&value)));
                }
            }
        }
    }
    out
}

/// `rules.yml` -> `rules.test.yml`.
pub fn test_path_for(output: &Path) -> PathBuf {
    let stem = output
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "rules".into());
    let ext = output
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_else(|| "yml".into());
    output.with_file_name(format!("{stem}.test.{ext}"))
}

pub fn run(args: RulesArgs) -> Result<ExitCode, Error> {
    let files = workspace::discover(&args.paths)?;
    let report = lint::scan(&files);
    let objectives = objectives(&report.observed());
    if objectives.is_empty() {
        eprintln!("note: no #[observe] function has an slo(...); the rule file has no groups");
    }
    let rules = rules_yaml(&objectives, &args.runbook_url);
    let Some(output) = args.output else {
        crate::cli::print(&rules)?;
        return Ok(ExitCode::SUCCESS);
    };
    let test_output = args.test_output.unwrap_or_else(|| test_path_for(&output));
    // promtool resolves rule_files relative to the test file.
    let rules_ref = relative_to(&output, test_output.parent().unwrap_or(Path::new(".")));
    let tests = tests_yaml(&objectives, &rules_ref, &args.runbook_url);
    write(&output, &rules)?;
    write(&test_output, &tests)?;
    eprintln!(
        "wrote {} ({} objective{}) and {}",
        output.display(),
        objectives.len(),
        if objectives.len() == 1 { "" } else { "s" },
        test_output.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn write(path: &Path, text: &str) -> Result<(), Error> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error(format!("{}: {e}", parent.display())))?;
    }
    std::fs::write(path, text).map_err(|e| Error(format!("{}: {e}", path.display())))
}

/// `path` as seen from `dir` when it is inside it, else absolute.
fn relative_to(path: &Path, dir: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    match abs.strip_prefix(&dir) {
        Ok(rel) => workspace::display_path(rel),
        Err(_) => abs.to_string_lossy().into_owned(),
    }
}
