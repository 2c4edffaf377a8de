//! The demo's terminal report: the load summary, the RED table computed
//! from a scrape of `/metrics` with the exemplar of checkout's slowest
//! latency bucket under it, that exemplar's trace as a waterfall (the
//! slowest kept checkout trace when there is no exemplar), and its log
//! lines.

use std::collections::BTreeMap;
use std::time::Duration;

use observe::{FlightRecorder, WaterfallStyle};
use serde_json::{Map, Value};

use crate::app::LoadReport;

/// ANSI styling, only when printing to a terminal.
pub struct Style {
    colour: bool,
}

impl Style {
    pub fn new(colour: bool) -> Self {
        Style { colour }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub fn title(&self, text: &str) -> String {
        self.paint("1", text)
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }

    fn yellow(&self, text: &str) -> String {
        self.paint("33", text)
    }

    fn heading(&self, number: u32, text: &str) {
        println!();
        println!("{}", self.paint("1;36", &format!("{number}. {text}")));
    }
}

pub fn print_load(style: &Style, load: &LoadReport) {
    let statuses: Vec<String> = load
        .by_status
        .iter()
        .map(|(status, n)| format!("{status}×{n}"))
        .collect();
    let answered = load.sent - load.transport_errors;
    let server_errors: u64 = load.by_status.range(500..).map(|(_, n)| n).sum();
    println!(
        "Load: {} checkout requests in {:.1} s; {answered} answered ({}); {} without an answer.",
        load.sent,
        load.elapsed.as_secs_f64(),
        if statuses.is_empty() {
            "none".to_owned()
        } else {
            statuses.join(", ")
        },
        load.transport_errors,
    );
    if server_errors > 0 {
        println!("{}", style.dim(&format!("The {server_errors} 5xx answers are the injected payment-provider hangs (run with --faults off to disable them).")));
    }
}

// ------------------------------------------------------------- metrics

/// One sample line of the Prometheus text format.
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

fn parse_samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let value: f64 = value.parse().ok()?;
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let mut map = BTreeMap::new();
            // Label values here never contain `",`.
            for pair in labels.split("\",").filter(|p| !p.is_empty()) {
                if let Some((key, value)) = pair.split_once("=\"") {
                    map.insert(key.to_owned(), value.trim_end_matches('"').to_owned());
                }
            }
            Some(Sample {
                name: name.to_owned(),
                labels: map,
                value,
            })
        })
        .collect()
}

/// `histogram_quantile`: linear interpolation inside the bucket that holds the rank.
pub fn quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    let total = buckets.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let mut previous = (0.0, 0.0);
    for &(upper, count) in buckets {
        if count >= rank {
            if upper.is_infinite() {
                return Some(previous.0);
            }
            let in_bucket = count - previous.1;
            let fraction = if in_bucket > 0.0 {
                (rank - previous.1) / in_bucket
            } else {
                1.0
            };
            return Some(previous.0 + (upper - previous.0) * fraction);
        }
        previous = (upper, count);
    }
    Some(previous.0)
}

#[derive(Default)]
struct Red {
    calls: f64,
    errors: f64,
    buckets: BTreeMap<String, f64>,
}

fn format_seconds(seconds: Option<f64>) -> String {
    match seconds {
        None => "–".to_owned(),
        Some(s) if s < 1.0 => format!("{:.0} ms", s * 1e3),
        Some(s) => format!("{s:.2} s"),
    }
}

fn sorted_buckets(buckets: &BTreeMap<String, f64>) -> Vec<(f64, f64)> {
    let mut sorted: Vec<(f64, f64)> = buckets
        .iter()
        .map(|(le, n)| {
            (
                if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap_or(f64::INFINITY)
                },
                *n,
            )
        })
        .collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    sorted
}

pub fn print_red(style: &Style, metrics: &str, window: Duration) {
    style.heading(1, "RED per flow (from a scrape of /metrics)");
    let samples = parse_samples(metrics);
    let mut rows: BTreeMap<(String, String), Red> = BTreeMap::new();
    for sample in &samples {
        let key = || {
            (
                sample.labels.get("flow").cloned().unwrap_or_default(),
                sample.labels.get("function").cloned().unwrap_or_default(),
            )
        };
        match sample.name.as_str() {
            "flow_calls_total" => {
                let row = rows.entry(key()).or_default();
                row.calls += sample.value;
                if sample.labels.get("outcome").is_some_and(|o| o != "ok") {
                    row.errors += sample.value;
                }
            }
            "flow_call_duration_seconds_bucket" => {
                let le = sample.labels.get("le").cloned().unwrap_or_default();
                *rows
                    .entry(key())
                    .or_default()
                    .buckets
                    .entry(le)
                    .or_default() += sample.value;
            }
            _ => {}
        }
    }
    let seconds = window.as_secs_f64().max(1e-3);
    println!(
        "{}",
        style.title(&format!(
            "{:<17} {:<22} {:>7} {:>9} {:>8} {:>8} {:>8} {:>8}",
            "flow", "function", "calls", "rate", "errors", "p50", "p95", "p99"
        ))
    );
    for ((flow, function), red) in &rows {
        let buckets = sorted_buckets(&red.buckets);
        let error_pct = if red.calls > 0.0 {
            100.0 * red.errors / red.calls
        } else {
            0.0
        };
        let errors = format!("{error_pct:.1} %");
        let errors = if error_pct >= 1.0 {
            style.red(&format!("{errors:>8}"))
        } else {
            format!("{errors:>8}")
        };
        let p99 = quantile(0.99, &buckets);
        let p99_text = format!("{:>8}", format_seconds(p99));
        let p99_text = if p99.is_some_and(|p| p >= 0.3) {
            style.yellow(&p99_text)
        } else {
            p99_text
        };
        println!(
            "{:<17} {:<22} {:>7} {:>7.1}/s {} {:>8} {:>8} {}",
            flow,
            function,
            red.calls,
            red.calls / seconds,
            errors,
            format_seconds(quantile(0.50, &buckets)),
            format_seconds(quantile(0.95, &buckets)),
            p99_text,
        );
    }
    // The HTTP view of the same traffic.
    let mut routes: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
    for sample in samples
        .iter()
        .filter(|s| s.name == "http_server_request_duration_seconds_count")
    {
        let key = (
            sample
                .labels
                .get("http_request_method")
                .cloned()
                .unwrap_or_default(),
            sample.labels.get("http_route").cloned().unwrap_or_default(),
        );
        let entry = routes.entry(key).or_default();
        entry.0 += sample.value;
        if sample
            .labels
            .get("http_response_status_code")
            .is_some_and(|c| c.starts_with('5'))
        {
            entry.1 += sample.value;
        }
    }
    println!();
    println!(
        "{}",
        style.title(&format!(
            "{:<32} {:>7} {:>9} {:>8}",
            "http route", "calls", "rate", "5xx"
        ))
    );
    for ((method, route), (count, failed)) in routes {
        let pct = if count > 0.0 {
            100.0 * failed / count
        } else {
            0.0
        };
        println!(
            "{:<32} {:>7} {:>7.1}/s {:>6.1} %",
            format!("{method} {route}"),
            count,
            count / seconds,
            pct
        );
    }
    println!(
        "{}",
        style.dim("rate = calls over the load window; p50/p95/p99 interpolated from the histogram buckets, as histogram_quantile does.")
    );
}

/// The exemplar of a histogram bucket, as the OpenMetrics text carries it.
pub struct BucketExemplar {
    pub le: String,
    pub trace_id: String,
    pub span_id: String,
    pub seconds: f64,
}

/// `flow_call_duration_seconds_bucket{flow="<flow>",...} N # {trace_id="..",span_id=".."} v ts`
/// lines of an OpenMetrics text: the exemplar with the largest value (it is
/// in the slowest bucket that has one).
pub fn slowest_exemplar(openmetrics: &str, flow: &str) -> Option<BucketExemplar> {
    let wanted = format!("flow=\"{flow}\"");
    openmetrics
        .lines()
        .filter(|line| {
            line.starts_with("flow_call_duration_seconds_bucket{") && line.contains(&wanted)
        })
        .filter_map(|line| {
            let (sample, exemplar) = line.split_once(" # ")?;
            let le = sample.split(",le=\"").nth(1)?.split('"').next()?.to_owned();
            let (labels, rest) = exemplar.strip_prefix('{')?.split_once("} ")?;
            let label = |key: &str| {
                labels
                    .split(',')
                    .find_map(|pair| pair.strip_prefix(key)?.strip_prefix("=\""))
                    .map(|v| v.trim_end_matches('"').to_owned())
            };
            Some(BucketExemplar {
                le,
                trace_id: label("trace_id")?,
                span_id: label("span_id")?,
                seconds: rest.split_whitespace().next()?.parse().ok()?,
            })
        })
        .max_by(|a, b| a.seconds.total_cmp(&b.seconds))
}

/// Scrapes `/metrics` as Prometheus does (asking for OpenMetrics) and
/// prints the exemplar of checkout's slowest bucket; returns it.
pub async fn print_checkout_exemplar(style: &Style, shop_url: &str) -> Option<BucketExemplar> {
    let url = format!("{shop_url}/metrics");
    let text = async {
        reqwest::Client::new()
            .get(&url)
            .header("accept", "application/openmetrics-text;version=1.0.0")
            .send()
            .await?
            .text()
            .await
    }
    .await;
    let exemplar = text
        .ok()
        .and_then(|text| slowest_exemplar(&text, "checkout"));
    println!();
    match &exemplar {
        Some(e) => {
            println!(
                "Exemplar of checkout's slowest bucket (le=\"{}\"): trace_id {} span_id {} ({}), drawn in section 2.",
                e.le,
                e.trace_id,
                e.span_id,
                format_seconds(Some(e.seconds))
            );
            println!(
                "{}",
                style.dim("On a Grafana latency panel this is the dot that links to the trace (see `cargo observe dashboard`).")
            );
        }
        None => println!(
            "No exemplar on checkout's latency buckets yet (none of its traces is known to be kept)."
        ),
    }
    exemplar
}

// -------------------------------------------------------------- traces

/// Draws the trace of `exemplar` when the flight recorder has it, else
/// the slowest kept checkout trace.
pub fn print_slowest_trace(
    style: &Style,
    recorder: &FlightRecorder,
    exemplar: Option<&BucketExemplar>,
) {
    style.heading(2, "Slowest checkout trace (flight recorder)");
    let of_exemplar = exemplar.and_then(|e| recorder.trace(&e.trace_id));
    if of_exemplar.is_some() {
        println!("{}", style.dim("The trace of the exemplar above."));
    }
    let Some(trace) = of_exemplar.or_else(|| {
        recorder
            .slowest(usize::MAX)
            .into_iter()
            .find(|t| t.contains("checkout"))
    }) else {
        println!("No checkout trace was kept.");
        return;
    };
    println!(
        "trace_id {}  {:.0} ms  kept because: {}  spans: {}",
        trace.trace_id,
        trace.duration.as_secs_f64() * 1e3,
        trace.keep_reason.as_str(),
        trace.spans.len()
    );
    print!(
        "{}",
        trace.waterfall(WaterfallStyle {
            colour: style.colour,
            bar_width: 32
        })
    );

    style.heading(3, &format!("Log lines of trace {}", trace.trace_id));
    // Lines held for the trace are flushed when it ends: by time, they
    // fall back in place.
    let mut lines: Vec<Map<String, Value>> = trace
        .logs
        .iter()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    lines.sort_by(|a, b| {
        let time = |m: &Map<String, Value>| {
            m.get("timestamp")
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        time(a).cmp(&time(b))
    });
    for fields in &lines {
        println!("{}", log_line(style, fields));
    }
    println!(
        "{}",
        style.dim(&format!(
            "The same trace as JSON: GET /debug/traces?trace_id={}",
            trace.trace_id
        ))
    );
}

fn log_line(style: &Style, fields: &Map<String, Value>) -> String {
    let text = |key: &str| match fields.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let time = text("timestamp");
    let time = time.get(11..23).unwrap_or(&time).to_owned();
    let level = text("level");
    let level_text = format!("{level:<5}");
    let level_text = match level.as_str() {
        "ERROR" => style.red(&level_text),
        "WARN" => style.yellow(&level_text),
        _ => level_text,
    };
    let mut line = format!(
        "{} {} {:<8} {}",
        style.dim(&time),
        level_text,
        text("service"),
        text("message")
    );
    for key in [
        "function",
        "outcome",
        "duration_ms",
        "error.message",
        "attempt",
        "query_ms",
        "http.response.status_code",
        "timeout_ms",
    ] {
        if fields.contains_key(key) {
            let mut value = text(key);
            if key == "duration_ms"
                && let Ok(ms) = value.parse::<f64>()
            {
                value = format!("{ms:.1}");
            }
            line.push_str(&format!(" {}{}", style.dim(&format!("{key}=")), value));
        }
    }
    line.push_str(&format!(
        " {}{}",
        style.dim("request_id="),
        text("request_id")
    ));
    if fields.get("log.buffered") == Some(&Value::Bool(true)) {
        line.push_str(&style.dim("  (buffered: written because the trace failed or was slow)"));
    }
    line
}
