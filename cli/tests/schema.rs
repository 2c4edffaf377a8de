//! The generated PromQL queries what observe really records.
//!
//! `schema/instrumented.rs` is compiled into this test (real `#[observe]`
//! functions, called for every outcome under an in-memory recorder) and
//! scanned by cargo-observe's front end (the catalog the rules and
//! dashboards are generated from). Every metric name, label key and label
//! value the generated rules and dashboards query must exist in what was
//! recorded. Nothing here lists the expected names: they come from parsing
//! the generated PromQL.

#[path = "schema/instrumented.rs"]
mod instrumented;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use cargo_observe::rules::RuleKind;
use instrumented::Step;
use metrics_util::MetricKind;
use metrics_util::debugging::DebuggingRecorder;
use observe_attr::schema;
use serde_json::Value;

type Labels = BTreeMap<String, String>;

/// What the recorder saw: series (label sets) by metric name, and the
/// names that are histograms.
struct Recorded {
    series: BTreeMap<String, Vec<Labels>>,
    histograms: BTreeSet<String>,
}

/// Calls the instrumented functions once per outcome under an in-memory
/// recorder.
fn record() -> Recorded {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        assert_eq!(instrumented::pay(10).unwrap(), 10);
        assert!(instrumented::pay(0).is_err());
        // The panic is the point; keep its message out of the test output.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let panicked = std::panic::catch_unwind(|| instrumented::pay(1));
        assert!(panicked.is_err());

        let mut cx = Context::from_waker(Waker::noop());
        let done = pin!(instrumented::reserve(Step::Succeed)).poll(&mut cx);
        assert_eq!(done, Poll::Ready(Ok(())));
        let failed = pin!(instrumented::reserve(Step::Fail)).poll(&mut cx);
        assert!(matches!(failed, Poll::Ready(Err(_))));
        let panicked = std::panic::catch_unwind(|| {
            let mut cx = Context::from_waker(Waker::noop());
            let _ = pin!(instrumented::reserve(Step::Panic)).poll(&mut cx);
        });
        assert!(panicked.is_err());
        {
            let mut pending = Box::pin(instrumented::reserve(Step::Wait));
            assert!(pending.as_mut().poll(&mut cx).is_pending());
            // Dropped after its first poll: cancelled.
        }
        std::panic::set_hook(hook);
    });
    let mut series: BTreeMap<String, Vec<Labels>> = BTreeMap::new();
    let mut histograms = BTreeSet::new();
    for (key, _, _, _) in snapshotter.snapshot().into_vec() {
        let name = key.key().name().to_string();
        if key.kind() == MetricKind::Histogram {
            histograms.insert(name.clone());
        }
        let labels = key
            .key()
            .labels()
            .map(|l| (l.key().to_string(), l.value().to_string()))
            .collect();
        series.entry(name).or_default().push(labels);
    }
    Recorded { series, histograms }
}

/// `a="b"`, `a=~"b|c"`, `a!="b"`.
#[derive(Debug, Clone)]
struct Matcher {
    key: String,
    op: String,
    value: String,
}

#[derive(Debug, Default)]
struct Selector {
    metric: String,
    matchers: Vec<Matcher>,
}

/// What one PromQL expression reads.
#[derive(Debug, Default)]
struct Query {
    selectors: Vec<Selector>,
    /// `by (labels)` with the metrics of the aggregated operand.
    groupings: Vec<(Vec<String>, Vec<String>)>,
    /// Grafana's `label_values(selector, label)`.
    label_values: Vec<(String, String)>,
}

/// A tokenizer and parser for the PromQL subset the generators write:
/// selectors, function calls, `sum by (...) (...)`, binary operators,
/// range brackets and numbers. Anything else fails the test, so a new
/// construct cannot go unchecked.
struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

const KEYWORDS: [&str; 4] = ["and", "or", "unless", "bool"];
const FUNCTIONS: [&str; 4] = ["sum", "rate", "histogram_quantile", "label_values"];

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn ident(&mut self) -> String {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        {
            self.pos += 1;
        }
        self.text[start..self.pos].to_string()
    }

    fn string(&mut self) -> String {
        assert_eq!(self.peek(), Some('"'), "{}", self.text);
        let rest = &self.text[self.pos..];
        let mut end = 1;
        let bytes = rest.as_bytes();
        while bytes[end] != b'"' {
            end += if bytes[end] == b'\\' { 2 } else { 1 };
        }
        self.pos += end + 1;
        serde_json::from_str(&rest[..=end]).expect("a PromQL string is a JSON string here")
    }

    fn expect(&mut self, c: char) {
        self.skip_space();
        assert_eq!(self.peek(), Some(c), "at {} in {}", self.pos, self.text);
        self.pos += 1;
    }

    fn matchers(&mut self) -> Vec<Matcher> {
        self.expect('{');
        let mut out = Vec::new();
        loop {
            self.skip_space();
            if self.peek() == Some('}') {
                self.pos += 1;
                return out;
            }
            let key = self.ident();
            let op_start = self.pos;
            while self.peek().is_some_and(|c| matches!(c, '=' | '~' | '!')) {
                self.pos += 1;
            }
            let op = self.text[op_start..self.pos].to_string();
            let value = self.string();
            out.push(Matcher { key, op, value });
            self.skip_space();
            if self.peek() == Some(',') {
                self.pos += 1;
            }
        }
    }

    /// `(a, b)` after `by`.
    fn label_list(&mut self) -> Vec<String> {
        self.expect('(');
        let mut out = Vec::new();
        loop {
            self.skip_space();
            match self.peek() {
                Some(')') => {
                    self.pos += 1;
                    return out;
                }
                Some(',') => self.pos += 1,
                _ => out.push(self.ident()),
            }
        }
    }

    /// Parses up to the end of the text or an unmatched `)`.
    fn expr(&mut self, query: &mut Query) {
        loop {
            self.skip_space();
            let Some(c) = self.peek() else { return };
            match c {
                ')' | ',' => return,
                '(' => {
                    self.pos += 1;
                    self.expr(query);
                    self.expect(')');
                }
                '[' => {
                    // A range: `[5m]`, `[$__rate_interval]`.
                    let close = self.text[self.pos..].find(']').expect("closed range");
                    self.pos += close + 1;
                }
                '/' | '-' | '+' | '*' | '>' | '<' => self.pos += 1,
                c if c.is_ascii_digit() => {
                    while self
                        .peek()
                        .is_some_and(|c| c.is_ascii_digit() || c == '.' || c == 'e')
                    {
                        self.pos += 1;
                    }
                }
                c if c.is_ascii_alphabetic() || c == '_' => {
                    let name = self.ident();
                    self.skip_space();
                    if KEYWORDS.contains(&name.as_str()) {
                        continue;
                    }
                    if FUNCTIONS.contains(&name.as_str()) {
                        self.call(&name, query);
                        continue;
                    }
                    assert!(
                        !matches!(name.as_str(), "by" | "without" | "on" | "ignoring"),
                        "unsupported PromQL construct `{name}` in {}",
                        self.text
                    );
                    let matchers = if self.peek() == Some('{') {
                        self.matchers()
                    } else {
                        Vec::new()
                    };
                    query.selectors.push(Selector {
                        metric: name,
                        matchers,
                    });
                }
                other => panic!("unexpected `{other}` at {} in {}", self.pos, self.text),
            }
        }
    }

    fn call(&mut self, name: &str, query: &mut Query) {
        let by = if name == "sum" && self.text[self.pos..].starts_with("by") {
            self.ident();
            Some(self.label_list())
        } else {
            None
        };
        self.expect('(');
        let first = query.selectors.len();
        if name == "label_values" {
            self.expr(query);
            self.expect(',');
            self.skip_space();
            let label = self.ident();
            let metric = query.selectors[first].metric.clone();
            query.label_values.push((metric, label));
        } else {
            loop {
                self.expr(query);
                self.skip_space();
                if self.peek() == Some(',') {
                    self.pos += 1;
                } else {
                    break;
                }
            }
        }
        self.expect(')');
        if let Some(labels) = by {
            let metrics = query.selectors[first..]
                .iter()
                .map(|s| s.metric.clone())
                .collect();
            query.groupings.push((labels, metrics));
        }
        self.skip_space();
        assert!(
            !self.text[self.pos..].starts_with("by"),
            "postfix `by` is not parsed: {}",
            self.text
        );
    }
}

fn parse(text: &str) -> Query {
    let mut query = Query::default();
    let mut parser = Parser { text, pos: 0 };
    parser.expr(&mut query);
    assert_eq!(parser.pos, text.len(), "unparsed PromQL: {text}");
    query
}

/// The series a queried name reads and the labels Prometheus adds to it:
/// histograms are exposed as `_bucket` (with `le`), `_count` and `_sum`.
fn resolve<'r>(
    recorded: &'r Recorded,
    records: &'r BTreeMap<String, BTreeSet<String>>,
    name: &str,
) -> Result<(Option<&'r [Labels]>, BTreeSet<String>), String> {
    if let Some(series) = recorded.series.get(name) {
        let extra = BTreeSet::new();
        return Ok((Some(series), extra));
    }
    for (suffix, extra) in [
        ("_bucket", vec![schema::label::LE]),
        ("_count", vec![]),
        ("_sum", vec![]),
    ] {
        if let Some(base) = name.strip_suffix(suffix)
            && recorded.histograms.contains(base)
        {
            let extra = extra.into_iter().map(String::from).collect();
            return Ok((Some(&recorded.series[base]), extra));
        }
    }
    // A series of a recording rule of the same file: its labels are the
    // rule's grouping and static labels.
    if let Some(labels) = records.get(name) {
        return Ok((None, labels.clone()));
    }
    Err(format!(
        "`{name}` is neither recorded by observe nor a recording rule"
    ))
}

/// Whether one matcher value can be checked against recorded values:
/// Grafana variables and `le` bounds (set by the exporter's bucket
/// configuration, which the in-memory recorder does not have) cannot.
fn checkable(m: &Matcher) -> bool {
    !m.value.contains('$') && m.key != schema::label::LE
}

fn value_matches(m: &Matcher, value: &str) -> bool {
    match m.op.as_str() {
        "=" => value == m.value,
        "=~" => m.value.split('|').any(|alt| alt == value),
        op => panic!("matcher `{op}` is not checked by this test"),
    }
}

/// Checks one query; returns what it found wrong.
fn check(
    where_: &str,
    text: &str,
    recorded: &Recorded,
    records: &BTreeMap<String, BTreeSet<String>>,
    problems: &mut Vec<String>,
    checked: &mut BTreeSet<String>,
) {
    let query = parse(text);
    assert!(
        !query.selectors.is_empty(),
        "{where_}: no selector in {text}"
    );
    for selector in &query.selectors {
        let (series, extra) = match resolve(recorded, records, &selector.metric) {
            Ok(found) => found,
            Err(e) => {
                problems.push(format!("{where_}: {e}"));
                continue;
            }
        };
        checked.insert(selector.metric.clone());
        let Some(series) = series else {
            for m in &selector.matchers {
                if !extra.contains(&m.key) {
                    problems.push(format!(
                        "{where_}: `{}` has no label `{}`",
                        selector.metric, m.key
                    ));
                }
            }
            continue;
        };
        let known = |key: &str| extra.contains(key) || series.iter().any(|s| s.contains_key(key));
        for m in &selector.matchers {
            if !known(&m.key) {
                problems.push(format!(
                    "{where_}: `{}` is recorded without the label `{}`",
                    selector.metric, m.key
                ));
            }
        }
        // Every value a matcher names is recorded for its key, and some
        // series satisfies all the matchers at once.
        let checkable: Vec<&Matcher> = selector
            .matchers
            .iter()
            .filter(|m| checkable(m) && known(&m.key))
            .collect();
        for m in &checkable {
            let alternatives: Vec<&str> = match m.op.as_str() {
                "=~" => m.value.split('|').collect(),
                _ => vec![m.value.as_str()],
            };
            for alternative in alternatives {
                if !series
                    .iter()
                    .any(|s| s.get(&m.key).is_some_and(|v| v == alternative))
                {
                    problems.push(format!(
                        "{where_}: `{}` is never recorded with {}=\"{alternative}\"",
                        selector.metric, m.key
                    ));
                }
            }
        }
        let all_match = |s: &Labels| {
            checkable
                .iter()
                .all(|m| s.get(&m.key).is_some_and(|v| value_matches(m, v)))
        };
        if !series.iter().any(all_match) {
            problems.push(format!(
                "{where_}: no recorded `{}` series matches {:?}",
                selector.metric, selector.matchers
            ));
        }
    }
    for (labels, metrics) in query.groupings.iter() {
        for metric in metrics {
            let Ok((series, extra)) = resolve(recorded, records, metric) else {
                continue;
            };
            for label in labels {
                let known = extra.contains(label)
                    || series.is_some_and(|s| s.iter().any(|s| s.contains_key(label)));
                if !known {
                    problems.push(format!(
                        "{where_}: groups `{metric}` by `{label}`, which it does not have"
                    ));
                }
            }
        }
    }
    for (metric, label) in &query.label_values {
        if let Ok((Some(series), _)) = resolve(recorded, records, metric)
            && !series.iter().any(|s| s.contains_key(label))
        {
            problems.push(format!(
                "{where_}: label_values of `{metric}` by `{label}`, which it does not have"
            ));
        }
    }
}

/// Every `expr` and templating query of a dashboard.
fn dashboard_queries(value: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let here = format!("{path}.{key}");
                match (key.as_str(), v) {
                    ("expr" | "definition", Value::String(text)) => out.push((here, text.clone())),
                    ("query", Value::Object(q)) if q.get("query").is_some_and(Value::is_string) => {
                        out.push((here, q["query"].as_str().unwrap().to_string()))
                    }
                    _ => dashboard_queries(v, &here, out),
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                dashboard_queries(v, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn instrumented_source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schema/instrumented.rs")
}

#[test]
fn every_metric_and_label_the_rules_and_dashboards_query_is_recorded() {
    let recorded = record();
    // Every outcome was produced, so every outcome value can be checked.
    let outcomes: BTreeSet<&str> = recorded.series[schema::CALLS_TOTAL.name]
        .iter()
        .map(|s| s[schema::label::OUTCOME].as_str())
        .collect();
    assert_eq!(outcomes, schema::OUTCOME_NAMES.into_iter().collect());

    let files = cargo_observe::workspace::discover(&[instrumented_source()]).unwrap();
    let report = cargo_observe::frontend::scan(&files);
    assert_eq!(
        report.findings().count(),
        0,
        "the instrumented file lints clean"
    );
    let functions = report.observed();
    assert_eq!(functions.len(), 2);
    let objectives = cargo_observe::slo::objectives(&functions);
    assert_eq!(
        objectives.len(),
        4,
        "availability and latency for both functions"
    );

    let groups = cargo_observe::rules::groups(&objectives, cargo_observe::rules::DEFAULT_RUNBOOK);
    // The labels each recording rule's series has: its grouping (the
    // labels every `sum by` of it keeps) and its static labels.
    let mut records: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for rule in groups.iter().flat_map(|g| &g.rules) {
        if rule.kind != RuleKind::Record {
            continue;
        }
        let query = parse(&rule.expr);
        let mut kept: Option<BTreeSet<String>> = None;
        for (labels, _) in &query.groupings {
            let set: BTreeSet<String> = labels.iter().cloned().collect();
            kept = Some(match kept {
                Some(k) => k.intersection(&set).cloned().collect(),
                None => set,
            });
        }
        let mut labels = kept.expect("a recording rule aggregates");
        labels.extend(rule.labels.iter().map(|(k, _)| k.to_string()));
        records.entry(rule.name.clone()).or_default().extend(labels);
    }

    let mut problems = Vec::new();
    let mut checked = BTreeSet::new();
    let mut queries = 0;
    for group in &groups {
        for rule in &group.rules {
            let where_ = format!("rule {} `{}`", group.name, rule.name);
            check(
                &where_,
                &rule.expr,
                &recorded,
                &records,
                &mut problems,
                &mut checked,
            );
            queries += 1;
        }
    }
    let boards = cargo_observe::dashboard::dashboards(&functions);
    let mut dashboard_count = 0;
    assert_eq!(boards.len(), 1);
    for (flow, board) in &boards {
        let mut found = Vec::new();
        dashboard_queries(board, flow, &mut found);
        assert!(found.len() > 10, "{found:?}");
        dashboard_count += found.len();
        for (where_, text) in found {
            check(
                &where_,
                &text,
                &recorded,
                &records,
                &mut problems,
                &mut checked,
            );
            queries += 1;
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // The queries read every metric an observed function's SLO needs.
    for name in [
        schema::CALLS_TOTAL.name.to_string(),
        schema::ERRORS_TOTAL.name.to_string(),
        schema::CALLS_IN_FLIGHT.name.to_string(),
        format!("{}_bucket", schema::CALL_DURATION_SECONDS.name),
        format!("{}_count", schema::CALL_DURATION_SECONDS.name),
    ] {
        assert!(
            checked.contains(&name),
            "{name} is never queried: {checked:?}"
        );
    }
    // Every rule and every dashboard query went through the checker.
    assert_eq!(
        queries,
        groups.iter().map(|g| g.rules.len()).sum::<usize>() + dashboard_count
    );
}

#[test]
fn the_checker_rejects_what_observe_does_not_record() {
    // The parser and checker above, against queries that must fail: a
    // misspelt metric, a label the metric lacks, an outcome that does not
    // exist, and a grouping by a missing label.
    let recorded = record();
    let records = BTreeMap::new();
    for bad in [
        "sum(rate(flow_call_total{flow=\"checkout\"}[5m]))",
        "sum(rate(flow_calls_total{flow=\"checkout\",error_kind=\"declined\"}[5m]))",
        "sum(rate(flow_calls_total{flow=\"checkout\",outcome=~\"error|failed\"}[5m]))",
        "sum by (outcome) (rate(flow_errors_total{flow=\"checkout\"}[5m]))",
        "rate(flow_call_duration_seconds_count{function=\"pay\",outcome=\"cancelled\"}[5m])",
    ] {
        let mut problems = Vec::new();
        check(
            "bad",
            bad,
            &recorded,
            &records,
            &mut problems,
            &mut BTreeSet::new(),
        );
        assert_eq!(problems.len(), 1, "{bad}: {problems:?}");
    }
    let mut problems = Vec::new();
    check(
        "good",
        "sum by (function, error_kind) (rate(flow_errors_total{flow=\"checkout\",error_kind=\"panic\"}[5m]))",
        &recorded,
        &records,
        &mut problems,
        &mut BTreeSet::new(),
    );
    assert_eq!(problems, Vec::<String>::new());
}
