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

use observe_attr::schema::{self, label};

use crate::error::Error;
use crate::num::fmt;
use crate::slo::{BURNS, Kind, Objective, WINDOWS, quote};
use crate::{frontend, output, workspace};

/// The default `--runbook-url`.
pub const DEFAULT_RUNBOOK: &str = "https://runbooks.example.com/observe/{flow}/{function}";

/// `cargo observe rules [PATHS] [-o FILE]`.
#[derive(clap::Args, Debug)]
pub struct RulesArgs {
    /// Files or directories to read (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Write the rules here, and the promtool unit tests beside it
    /// (`<name>.test.yml`); without it the rules go to stdout.
    #[arg(long, short = 'o', alias = "out")]
    pub output: Option<PathBuf>,
    /// Where to write the promtool unit tests (default: beside --output).
    #[arg(long)]
    pub test_output: Option<PathBuf>,
    /// The runbook annotation; `{flow}` and `{function}` are replaced.
    #[arg(long, default_value = DEFAULT_RUNBOOK)]
    pub runbook_url: String,
}

/// The alert of availability objectives.
pub const ERROR_ALERT: &str = "FlowErrorBudgetBurn";
/// The alert of latency objectives.
pub const LATENCY_ALERT: &str = "FlowLatencyBudgetBurn";

/// The static label that names the objective kind of a rule.
const SLO_LABEL: &str = "slo";

/// One recording or alerting rule.
pub struct Rule {
    /// `record: ...` or `alert: ...`.
    pub kind: RuleKind,
    /// The rule's name (the recorded series, or the alert).
    pub name: String,
    /// The PromQL expression.
    pub expr: String,
    /// Static labels. They include `flow` and `function`, which keeps
    /// every rule of a file unique (promtool's duplicate-rules lint)
    /// when several functions share a flow and an objective kind.
    pub labels: Vec<(&'static str, String)>,
    /// Alerts' annotations (none for recording rules).
    pub annotations: Vec<(&'static str, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// Recording or alerting rule.
pub enum RuleKind {
    /// `record:`.
    Record,
    /// `alert:`.
    Alert,
}

/// One rule group: every rule of one flow.
pub struct Group {
    /// `observe-slo-<flow>`.
    pub name: String,
    /// Recording rules first, then alerts.
    pub rules: Vec<Rule>,
}

/// The series a recording rule writes: the bad-call ratio over `window`.
pub fn record_name(objective: &Objective, window: &str) -> String {
    match objective.kind {
        Kind::Availability => format!("flow_function:flow_call_errors:ratio_rate{window}"),
        Kind::Latency { .. } => format!("flow_function:flow_call_slow:ratio_rate{window}"),
    }
}

/// The alert an objective's burn rate raises.
pub fn alert_name(objective: &Objective) -> &'static str {
    match objective.kind {
        Kind::Availability => ERROR_ALERT,
        Kind::Latency { .. } => LATENCY_ALERT,
    }
}

/// The grouping every ratio keeps: `flow, function`.
fn by() -> String {
    format!("{}, {}", label::FLOW, label::FUNCTION)
}

fn record_expr(objective: &Objective, window: &str) -> String {
    let (bad, all) = objective.rates(window);
    let by = by();
    match &objective.kind {
        Kind::Availability => format!("sum by ({by}) ({bad})\n/\nsum by ({by}) ({all})"),
        Kind::Latency { .. } => {
            format!("1 - (\n  sum by ({by}) ({bad})\n  /\n  sum by ({by}) ({all})\n)")
        }
    }
}

/// The alert expression for one severity: any of its window pairs.
fn alert_expr(objective: &Objective, severity: &str) -> String {
    let sel = objective.selector();
    let budget = objective.budget();
    BURNS
        .iter()
        .filter(|b| b.severity == severity)
        .map(|b| {
            let threshold = fmt(b.factor * budget);
            format!(
                "(\n  {long}{{{sel}}} > {threshold}\n  and\n  {short}{{{sel}}} > {threshold}\n)",
                long = record_name(objective, b.long),
                short = record_name(objective, b.short),
            )
        })
        .collect::<Vec<_>>()
        .join("\nor\n")
}

/// The annotations of the alert at `severity`: fixed text, so that the
/// promtool tests can expect them exactly.
pub fn annotations(o: &Objective, severity: &str, runbook: &str) -> Vec<(&'static str, String)> {
    let speed = if severity == "page" {
        "fast"
    } else {
        "steadily"
    };
    let budget_kind = match o.kind {
        Kind::Availability => "error budget",
        Kind::Latency { .. } => "latency budget",
    };
    vec![
        (
            "summary",
            format!(
                "{}/{} is burning its {} {speed} ({})",
                o.flow,
                o.function,
                budget_kind,
                o.what()
            ),
        ),
        (
            "description",
            format!(
                "Flow `{}`, function `{}` ({} objective {}): at this burn rate the {} runs out {}. \
                 Check recent deploys, dependencies and the flow's dashboard.",
                o.flow,
                o.function,
                o.kind_name(),
                o.what(),
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
                .replace("{flow}", &o.flow)
                .replace("{function}", &o.function),
        ),
    ]
}

/// The labels that make a rule unique: `flow` and `function`.
fn identity(o: &Objective) -> [(&'static str, String); 2] {
    [
        (label::FLOW, o.flow.clone()),
        (label::FUNCTION, o.function.clone()),
    ]
}

/// The rule groups: one per flow, recording rules first.
pub fn groups(objectives: &[Objective], runbook: &str) -> Vec<Group> {
    let mut flows: Vec<&str> = objectives.iter().map(|o| o.flow.as_str()).collect();
    flows.dedup();
    flows
        .into_iter()
        .map(|flow| {
            let in_flow: Vec<&Objective> = objectives.iter().filter(|o| o.flow == flow).collect();
            let mut rules = Vec::new();
            for o in &in_flow {
                for window in WINDOWS {
                    let mut labels = vec![(SLO_LABEL, o.kind_name().to_string())];
                    labels.extend(identity(o));
                    rules.push(Rule {
                        kind: RuleKind::Record,
                        name: record_name(o, window),
                        expr: record_expr(o, window),
                        labels,
                        annotations: Vec::new(),
                    });
                }
            }
            for o in &in_flow {
                for severity in ["page", "ticket"] {
                    let mut labels = vec![
                        ("severity", severity.to_string()),
                        (SLO_LABEL, o.kind_name().to_string()),
                    ];
                    labels.extend(identity(o));
                    rules.push(Rule {
                        kind: RuleKind::Alert,
                        name: alert_name(o).to_string(),
                        expr: alert_expr(o, severity),
                        labels,
                        annotations: annotations(o, severity, runbook),
                    });
                }
            }
            Group {
                name: format!("observe-slo-{flow}"),
                rules,
            }
        })
        .collect()
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
    for group in groups(objectives, runbook) {
        out.push_str(&format!("  - name: {}\n    rules:\n", quote(&group.name)));
        for rule in &group.rules {
            let key = match rule.kind {
                RuleKind::Record => "record",
                RuleKind::Alert => "alert",
            };
            out.push_str(&format!("      - {key}: {}\n", rule.name));
            out.push_str("        expr: |-\n");
            block(&mut out, 10, &rule.expr);
            out.push_str("        labels:\n");
            for (key, value) in &rule.labels {
                let value = if *key == "severity" {
                    value.clone()
                } else {
                    quote(value)
                };
                out.push_str(&format!("          {key}: {value}\n"));
            }
            if !rule.annotations.is_empty() {
                out.push_str("        annotations:\n");
                for (key, value) in &rule.annotations {
                    out.push_str(&format!("          {key}: {}\n", quote(value)));
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
                    o.kind_name()
                ))
            ));
            let labels = format!("{},{}=\"synthetic\"", o.selector(), label::MODULE);
            let calls = schema::CALLS_TOTAL.name;
            let (bucket, count) = (crate::slo::duration_bucket(), crate::slo::duration_count());
            let outcome = |o: schema::Outcome| format!("{}=\"{}\"", label::OUTCOME, o.name);
            let (ok, error) = (outcome(schema::OK), outcome(schema::ERROR));
            let bad = fmt(bad_ratio * CALLS_PER_MINUTE);
            let good = fmt((1.0 - bad_ratio) * CALLS_PER_MINUTE);
            let series: Vec<(String, String)> = match &o.kind {
                Kind::Availability => vec![
                    (format!("{calls}{{{labels},{ok}}}"), good),
                    (format!("{calls}{{{labels},{error}}}"), bad),
                ],
                Kind::Latency { seconds } => vec![
                    (
                        format!(
                            "{bucket}{{{labels},{ok},{}=\"{}\"}}",
                            label::LE,
                            fmt(*seconds)
                        ),
                        good,
                    ),
                    (
                        format!("{bucket}{{{labels},{ok},{}=\"+Inf\"}}", label::LE),
                        fmt(CALLS_PER_MINUTE),
                    ),
                    (format!("{count}{{{labels},{ok}}}"), fmt(CALLS_PER_MINUTE)),
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
                alert_name(o)
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
                out.push_str(&format!("              slo: {}\n", quote(o.kind_name())));
                out.push_str(&format!("              flow: {}\n", quote(&o.flow)));
                out.push_str(&format!("              function: {}\n", quote(&o.function)));
                out.push_str("            exp_annotations:\n");
                for (key, value) in annotations(o, severity, runbook) {
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

/// Runs `cargo observe rules`.
pub fn run(args: RulesArgs) -> Result<ExitCode, Error> {
    let files = workspace::discover(&args.paths)?;
    let report = frontend::scan(&files);
    let objectives = crate::slo::objectives(&report.observed());
    if objectives.is_empty() {
        eprintln!("note: no #[observe] function has an slo(...); the rule file has no groups");
    }
    let rules = rules_yaml(&objectives, &args.runbook_url);
    let Some(rules_path) = args.output else {
        output::print(&rules)?;
        return Ok(ExitCode::SUCCESS);
    };
    let test_path = args
        .test_output
        .unwrap_or_else(|| test_path_for(&rules_path));
    // promtool resolves rule_files relative to the test file.
    let rules_ref = relative_to(&rules_path, test_path.parent().unwrap_or(Path::new(".")));
    let tests = tests_yaml(&objectives, &rules_ref, &args.runbook_url);
    output::write_file(&rules_path, &rules)?;
    output::write_file(&test_path, &tests)?;
    eprintln!(
        "wrote {} ({} objective{}) and {}",
        rules_path.display(),
        objectives.len(),
        if objectives.len() == 1 { "" } else { "s" },
        test_path.display()
    );
    Ok(ExitCode::SUCCESS)
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
