//! What the flight recorder keeps of a trace, and its JSON form.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{Event, SpanId, SpanKind, Status};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;
use serde_json::json;

/// Why a trace was kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepReason {
    /// A span failed (status ERROR or a 5xx response).
    Error,
    /// A call was over its `slow` threshold.
    Slow,
    /// Kept by sampling.
    Sampled,
}

impl KeepReason {
    /// `error`, `slow` or `sampled`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeepReason::Error => "error",
            KeepReason::Slow => "slow",
            KeepReason::Sampled => "sampled",
        }
    }
}

/// A span's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpanStatus {
    /// Not set.
    Unset,
    /// Explicitly OK.
    Ok,
    /// Failed, with a description.
    Error(String),
}

/// An event recorded on a span (a log line inside it).
#[derive(Debug, Clone)]
pub struct SpanEventRecord {
    /// The message.
    pub name: String,
    /// When it happened.
    pub time: SystemTime,
    /// Its fields.
    pub attributes: Vec<(String, String)>,
}

/// One finished span.
#[derive(Debug, Clone)]
pub struct SpanRecord {
    /// 16 hex digits.
    pub span_id: String,
    /// The parent's id, if any (it may be in another process).
    pub parent_span_id: Option<String>,
    /// The span name (`otel.name` when set).
    pub name: String,
    /// `server`, `client`, `internal`, `producer` or `consumer`.
    pub kind: &'static str,
    /// The service the span ran in (inherited from the nearest ancestor
    /// carrying a `service` attribute, else the process's service).
    pub service: String,
    /// Start time.
    pub start: SystemTime,
    /// End time.
    pub end: SystemTime,
    /// Status.
    pub status: SpanStatus,
    /// Attributes, as text.
    pub attributes: Vec<(String, String)>,
    /// Events.
    pub events: Vec<SpanEventRecord>,
}

/// [`SpanRecord::is_error`] on a span as the SDK hands it over.
pub(crate) fn span_data_is_error(span: &SpanData) -> bool {
    is_error(&span.status, &span.attributes)
}

/// [`SpanRecord::is_slow`] on a span as the SDK hands it over.
pub(crate) fn span_data_is_slow(span: &SpanData) -> bool {
    is_slow(&span.events.events)
}

/// [`SpanRecord::is_error`] on a span's parts (also before it ends).
pub(crate) fn is_error(status: &Status, attributes: &[KeyValue]) -> bool {
    matches!(status, Status::Error { .. })
        || attributes
            .iter()
            .find(|kv| kv.key.as_str() == "http.response.status_code")
            .and_then(|kv| value_text(&kv.value).parse::<u16>().ok())
            .is_some_and(|code| code >= 500)
}

/// [`SpanRecord::is_slow`] on a span's events (also before it ends).
pub(crate) fn is_slow(events: &[Event]) -> bool {
    events.iter().any(|event| {
        event
            .attributes
            .iter()
            .any(|kv| kv.key.as_str() == "slow" && value_text(&kv.value) == "true")
    })
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.as_str().to_owned(),
        other => other.to_string(),
    }
}

fn pairs(attributes: &[KeyValue]) -> Vec<(String, String)> {
    attributes
        .iter()
        .map(|kv| (kv.key.as_str().to_owned(), value_text(&kv.value)))
        .collect()
}

impl SpanRecord {
    pub(crate) fn from_span_data(span: &SpanData) -> Self {
        let attributes = pairs(&span.attributes);
        let service = attributes
            .iter()
            .find(|(k, _)| k == "service")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        SpanRecord {
            span_id: span.span_context.span_id().to_string(),
            parent_span_id: (span.parent_span_id != SpanId::INVALID)
                .then(|| span.parent_span_id.to_string()),
            name: span.name.to_string(),
            kind: match span.span_kind {
                SpanKind::Server => "server",
                SpanKind::Client => "client",
                SpanKind::Producer => "producer",
                SpanKind::Consumer => "consumer",
                SpanKind::Internal => "internal",
            },
            service,
            start: span.start_time,
            end: span.end_time,
            status: match &span.status {
                Status::Unset => SpanStatus::Unset,
                Status::Ok => SpanStatus::Ok,
                Status::Error { description } => SpanStatus::Error(description.to_string()),
            },
            attributes,
            events: span
                .events
                .iter()
                .map(|event| SpanEventRecord {
                    name: event.name.to_string(),
                    time: event.timestamp,
                    attributes: pairs(&event.attributes),
                })
                .collect(),
        }
    }

    /// The span's duration.
    pub fn duration(&self) -> Duration {
        self.end.duration_since(self.start).unwrap_or_default()
    }

    /// An attribute's value.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the span failed: status ERROR, or a 5xx response.
    pub fn is_error(&self) -> bool {
        matches!(self.status, SpanStatus::Error(_))
            || self
                .attribute("http.response.status_code")
                .and_then(|s| s.parse::<u16>().ok())
                .is_some_and(|c| c >= 500)
    }

    /// Whether a call in this span was over its `slow` threshold.
    pub fn is_slow(&self) -> bool {
        self.events.iter().any(|event| {
            event
                .attributes
                .iter()
                .any(|(k, v)| k == "slow" && v == "true")
        })
    }

    /// Why it failed: the status description, the error message of its
    /// completion line, or the error type.
    pub fn error_message(&self) -> Option<String> {
        if !self.is_error() {
            return None;
        }
        let from_events = self.events.iter().find_map(|event| {
            event
                .attributes
                .iter()
                .find(|(k, _)| k == "error.message")
                .map(|(_, v)| v.clone())
        });
        let description = match &self.status {
            SpanStatus::Error(description) if !description.is_empty() => Some(description.clone()),
            _ => None,
        };
        from_events
            .or_else(|| self.attribute("error.message").map(str::to_owned))
            .or(description)
            .or_else(|| self.attribute("error.type").map(str::to_owned))
            .or_else(|| {
                self.attribute("http.response.status_code")
                    .map(|code| format!("HTTP {code}"))
            })
    }
}

/// A completed trace: its spans (possibly from several services in this
/// process) and its log lines.
#[derive(Debug, Clone)]
pub struct RecordedTrace {
    /// 32 hex digits.
    pub trace_id: String,
    /// Why it was kept.
    pub keep_reason: KeepReason,
    /// Its spans, in the order they ended.
    pub spans: Vec<SpanRecord>,
    /// Its log lines (JSON, scrubbed), in order.
    pub logs: Vec<String>,
    /// The earliest span start.
    pub start: SystemTime,
    /// From the earliest start to the latest end.
    pub duration: Duration,
}

impl RecordedTrace {
    pub(crate) fn new(trace_id: String, spans: Vec<SpanRecord>, logs: Vec<String>) -> Self {
        RecordedTrace {
            trace_id,
            keep_reason: KeepReason::Sampled,
            spans,
            logs,
            start: UNIX_EPOCH,
            duration: Duration::ZERO,
        }
    }

    /// Recomputes the timing and the inherited service names.
    pub(crate) fn refresh(&mut self, default_service: &str) {
        self.start = self
            .spans
            .iter()
            .map(|s| s.start)
            .min()
            .unwrap_or(UNIX_EPOCH);
        let end = self.spans.iter().map(|s| s.end).max().unwrap_or(self.start);
        self.duration = end.duration_since(self.start).unwrap_or_default();
        // Services: own `service` attribute, else the nearest ancestor's.
        let own: Vec<Option<String>> = self
            .spans
            .iter()
            .map(|s| s.attribute("service").map(str::to_owned))
            .collect();
        let resolved: Vec<String> = (0..self.spans.len())
            .map(|mut index| {
                for _ in 0..self.spans.len() {
                    if let Some(service) = &own[index] {
                        return service.clone();
                    }
                    let Some(parent) = &self.spans[index].parent_span_id else {
                        break;
                    };
                    match self.spans.iter().position(|s| &s.span_id == parent) {
                        Some(parent_index) => index = parent_index,
                        None => break,
                    }
                }
                default_service.to_owned()
            })
            .collect();
        for (span, service) in self.spans.iter_mut().zip(resolved) {
            span.service = service;
        }
    }

    /// Whether any span failed.
    pub fn has_error(&self) -> bool {
        self.spans.iter().any(SpanRecord::is_error)
    }

    /// Whether any call was slow.
    pub fn is_slow(&self) -> bool {
        self.spans.iter().any(SpanRecord::is_slow)
    }

    /// The spans whose parent is not in this trace, earliest first.
    pub fn roots(&self) -> Vec<&SpanRecord> {
        let mut roots: Vec<&SpanRecord> = self
            .spans
            .iter()
            .filter(|s| {
                s.parent_span_id
                    .as_ref()
                    .is_none_or(|p| !self.spans.iter().any(|o| &o.span_id == p))
            })
            .collect();
        roots.sort_by_key(|s| s.start);
        roots
    }

    /// The first root's name.
    pub fn root_name(&self) -> &str {
        self.roots().first().map_or("", |root| root.name.as_str())
    }

    /// The children of `span_id`, earliest first.
    pub fn children(&self, span_id: &str) -> Vec<&SpanRecord> {
        let mut children: Vec<&SpanRecord> = self
            .spans
            .iter()
            .filter(|s| s.parent_span_id.as_deref() == Some(span_id))
            .collect();
        children.sort_by_key(|s| s.start);
        children
    }

    /// Whether a span named `name` (or whose `flow` attribute is `name`) is in the trace.
    pub fn contains(&self, name: &str) -> bool {
        self.spans
            .iter()
            .any(|s| s.name == name || s.attribute("flow") == Some(name))
    }

    /// The JSON form served by `/debug/traces`.
    pub fn to_json(&self) -> serde_json::Value {
        let offset_ms = |t: SystemTime| {
            t.duration_since(self.start)
                .unwrap_or_default()
                .as_secs_f64()
                * 1e3
        };
        let spans: Vec<_> = self
            .spans
            .iter()
            .map(|s| {
                json!({
                    "span_id": s.span_id,
                    "parent_span_id": s.parent_span_id,
                    "name": s.name,
                    "kind": s.kind,
                    "service": s.service,
                    "start_offset_ms": offset_ms(s.start),
                    "duration_ms": s.duration().as_secs_f64() * 1e3,
                    "status": match &s.status { SpanStatus::Error(_) => "error", SpanStatus::Ok => "ok", SpanStatus::Unset if s.is_error() => "error", SpanStatus::Unset => "unset" },
                    "error": s.error_message(),
                    "attributes": s.attributes.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
                })
            })
            .collect();
        let logs: Vec<serde_json::Value> = self
            .logs
            .iter()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|_| line.clone().into()))
            .collect();
        let start_ms = self
            .start
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64;
        json!({
            "trace_id": self.trace_id,
            "root": self.root_name(),
            "kept_because": self.keep_reason.as_str(),
            "error": self.has_error(),
            "start_unix_ms": start_ms,
            "duration_ms": self.duration.as_secs_f64() * 1e3,
            "spans": spans,
            "logs": logs,
        })
    }
}
