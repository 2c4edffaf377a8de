//! The admin router: internal data and run-time knobs, kept off the public
//! router. Mount it on a separate listener bound to loopback:
//! `/debug/traces` (the flight recorder), `GET /debug/flows` (every
//! instrumented function with its knobs and live RED) and
//! `PUT /debug/flows/{flow}` (`{"verbosity": "debug", "for": "10m"}`).

use std::collections::HashMap;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tracing::Level;

use crate::flows::{FlowKnobs, flows};

/// The admin routes: `/debug/traces`, `/debug/flows`, `/debug/flows/{flow}`.
pub fn admin_routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/debug/traces", get(debug_traces))
        .route("/debug/flows", get(list_flows))
        .route("/debug/flows/{flow}", get(get_flow).put(put_flow))
}

async fn debug_traces(Query(query): Query<HashMap<String, String>>) -> Response {
    let Some(recorder) = crate::flight_recorder() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": "the flight recorder is not installed"})),
        )
            .into_response();
    };
    if let Some(trace_id) = query.get("trace_id") {
        return match recorder.trace(trace_id) {
            Some(trace) => Json(trace.to_json()).into_response(),
            None => (
                StatusCode::NOT_FOUND,
                Json(json!({"error": "no such trace kept"})),
            )
                .into_response(),
        };
    }
    let limit = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(10usize)
        .min(100);
    Json(recorder.to_json(limit)).into_response()
}

async fn list_flows() -> Response {
    let red = Red::scrape();
    let all: Vec<Value> = flows().list().iter().map(|f| flow_json(f, &red)).collect();
    Json(json!({ "functions": all })).into_response()
}

async fn get_flow(Path(name): Path<String>) -> Response {
    let matched = flows().get(&name);
    if matched.is_empty() {
        return no_such_flow(&name);
    }
    let red = Red::scrape();
    let all: Vec<Value> = matched.iter().map(|f| flow_json(f, &red)).collect();
    Json(json!({ "functions": all })).into_response()
}

fn no_such_flow(name: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": format!("no flow, function or module::function named {name:?}")})),
    )
        .into_response()
}

fn bad_request(message: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}

/// `{"verbosity": "debug", "sample": 0.5, "slow": "250ms", "for": "10m"}`;
/// `{"reset": true}` puts the code's values back.
async fn put_flow(Path(name): Path<String>, body: String) -> Response {
    let body: Value = match serde_json::from_str(&body) {
        Ok(Value::Object(map)) => Value::Object(map),
        _ => return bad_request("the body must be a JSON object".into()),
    };
    if flows().get(&name).is_empty() {
        return no_such_flow(&name);
    }
    let duration = match body.get("for") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => match parse_duration(text) {
            Some(d) => Some(d),
            None => return bad_request(format!("\"for\": {text:?} is not a duration like 10m")),
        },
        Some(other) => return bad_request(format!("\"for\": {other} is not a duration")),
    };
    let verbosity = match body.get("verbosity") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => match text.parse::<Level>() {
            Ok(level) => Some(level),
            Err(_) => return bad_request(format!("\"verbosity\": {text:?} is not a level")),
        },
        Some(other) => return bad_request(format!("\"verbosity\": {other} is not a level")),
    };
    let sample = match body.get("sample") {
        None | Some(Value::Null) => None,
        Some(value) => match value.as_f64() {
            Some(rate) if (0.0..=1.0).contains(&rate) => Some(rate),
            _ => return bad_request(format!("\"sample\": {value} is not in [0, 1]")),
        },
    };
    let slow = match body.get("slow") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => match parse_duration(text) {
            Some(d) => Some(d),
            None => return bad_request(format!("\"slow\": {text:?} is not a duration")),
        },
        Some(other) => return bad_request(format!("\"slow\": {other} is not a duration")),
    };
    if body.get("reset") == Some(&Value::Bool(true)) {
        flows().reset(&name);
    }
    let timed = |change: crate::flows::Change| match duration {
        Some(d) => {
            let _ = change.for_duration(d);
        }
        None => {
            let _ = change;
        }
    };
    if let Some(level) = verbosity {
        timed(flows().set_verbosity(&name, level));
    }
    if let Some(rate) = sample {
        timed(flows().set_sample(&name, rate));
    }
    if let Some(threshold) = slow {
        timed(flows().set_slow(&name, threshold));
    }
    get_flow(Path(name)).await
}

/// `250ms`, `2s`, `10m`, `1h`, or a number of seconds.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "ms" => number / 1e3,
        "" | "s" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => return None,
    };
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

fn level_name(level: Level) -> String {
    level.as_str().to_ascii_lowercase()
}

fn flow_json(f: &FlowKnobs, red: &Red) -> Value {
    let stats = red.of(f.flow, f.function);
    json!({
        "flow": f.flow,
        "function": f.function,
        "module": f.module,
        "level": level_name(f.level),
        "knobs": {
            "verbosity": f.verbosity.map(level_name),
            "sample": f.sample,
            "slow_ms": f.slow.map(|d| d.as_secs_f64() * 1e3),
        },
        "overridden": {
            "verbosity": f.overrides.verbosity.is_some(),
            "sample": f.overrides.sample.is_some(),
            "slow": f.overrides.slow.is_some(),
        },
        "red": {
            "calls": stats.calls,
            "error_ratio": (stats.calls > 0.0).then(|| stats.errors / stats.calls),
            "p50_seconds": stats.quantile(0.5),
            "p99_seconds": stats.quantile(0.99),
        },
    })
}

/// Per (flow, function): calls, errors and the duration buckets, summed
/// over outcomes and labels, from the Prometheus exporter's own text.
#[derive(Default)]
struct Red {
    by_function: HashMap<(String, String), Stats>,
}

#[derive(Default, Clone)]
struct Stats {
    calls: f64,
    errors: f64,
    /// Upper bound → cumulative count.
    buckets: Vec<(f64, f64)>,
}

impl Stats {
    /// The quantile by linear interpolation inside the bucket, as
    /// PromQL's `histogram_quantile` does.
    fn quantile(&self, q: f64) -> Option<f64> {
        let mut buckets = self.buckets.clone();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total = buckets.last()?.1;
        if total <= 0.0 {
            return None;
        }
        let rank = q * total;
        let (mut lower, mut below) = (0.0, 0.0);
        for &(upper, count) in &buckets {
            if count >= rank {
                if upper.is_infinite() {
                    return Some(lower);
                }
                let inside = count - below;
                let fraction = if inside > 0.0 {
                    (rank - below) / inside
                } else {
                    1.0
                };
                return Some(lower + (upper - lower) * fraction);
            }
            lower = upper;
            below = count;
        }
        Some(lower)
    }
}

impl Red {
    fn scrape() -> Red {
        let Some(handle) = crate::metrics_handle() else {
            return Red::default();
        };
        let mut red = Red::default();
        for line in handle.render().lines() {
            if line.starts_with('#') {
                continue;
            }
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Ok(value) = value.parse::<f64>() else {
                continue;
            };
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, parse_labels(rest.trim_end_matches('}'))),
                None => (series, HashMap::new()),
            };
            let (Some(flow), Some(function)) = (labels.get("flow"), labels.get("function")) else {
                continue;
            };
            let stats = red
                .by_function
                .entry((flow.clone(), function.clone()))
                .or_default();
            match name {
                "flow_calls_total" => {
                    stats.calls += value;
                    if labels.get("outcome").is_some_and(|o| o != "ok") {
                        stats.errors += value;
                    }
                }
                "flow_call_duration_seconds_bucket" => {
                    let Some(le) = labels.get("le").and_then(|le| match le.as_str() {
                        "+Inf" => Some(f64::INFINITY),
                        other => other.parse().ok(),
                    }) else {
                        continue;
                    };
                    match stats.buckets.iter_mut().find(|(upper, _)| *upper == le) {
                        Some((_, count)) => *count += value,
                        None => stats.buckets.push((le, value)),
                    }
                }
                _ => {}
            }
        }
        red
    }

    fn of(&self, flow: &str, function: &str) -> Stats {
        self.by_function
            .get(&(flow.to_owned(), function.to_owned()))
            .cloned()
            .unwrap_or_default()
    }
}

/// `a="1",b="x\"y"` → {a: 1, b: x"y}.
fn parse_labels(text: &str) -> HashMap<String, String> {
    let mut labels = HashMap::new();
    let mut rest = text;
    while let Some((key, after)) = rest.split_once("=\"") {
        let mut value = String::new();
        let mut chars = after.char_indices();
        let mut end = after.len();
        while let Some((index, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(if escaped == 'n' { '\n' } else { escaped });
                    }
                }
                '"' => {
                    end = index + 1;
                    break;
                }
                other => value.push(other),
            }
        }
        labels.insert(key.trim_start_matches(',').trim().to_owned(), value);
        rest = &after[end..];
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_labels() {
        assert_eq!(parse_duration("10m"), Some(Duration::from_secs(600)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_duration("soon"), None);
        let labels = parse_labels(r#"flow="pay",function="a\"b",le="0.5""#);
        assert_eq!(labels["flow"], "pay");
        assert_eq!(labels["function"], "a\"b");
        assert_eq!(labels["le"], "0.5");
    }

    #[test]
    fn quantiles_interpolate_inside_the_bucket() {
        let stats = Stats {
            calls: 10.0,
            errors: 1.0,
            buckets: vec![(0.1, 5.0), (0.2, 10.0), (f64::INFINITY, 10.0)],
        };
        assert_eq!(stats.quantile(0.5), Some(0.1));
        assert!((stats.quantile(0.75).unwrap() - 0.15).abs() < 1e-9);
    }
}
