//! The log output: json-subscriber formats each event with the fields of
//! its enclosing spans flattened and the OpenTelemetry ids attached; every
//! finished line then passes through [`LineSink`], which scrubs it, puts
//! the ids and the service's identity at the top level, hands it to the
//! flight recorder, and writes it as JSON or as a pretty line.

use std::io;
use std::sync::Arc;

use json_subscriber::JsonLayer;
use serde_json::{Map, Value};
use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::time::SystemTime;
use tracing_subscriber::registry::LookupSpan;

use crate::config::{LogFormat, LogWriter};
use crate::flight_recorder::FlightRecorder;
use crate::redaction::scrub_json;

/// The keys written first, in this order, on every line.
const LEADING_KEYS: [&str; 9] = [
    "timestamp",
    "level",
    "message",
    "target",
    "service",
    "environment",
    "version",
    "trace_id",
    "span_id",
];

/// Builds the formatting layer that feeds `sink`.
pub(crate) fn layer<S>(sink: Arc<LineSink>) -> JsonLayer<S, SinkWriter>
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    let mut layer = JsonLayer::new(SinkWriter(sink));
    layer
        .with_timer("timestamp", SystemTime)
        .with_level("level")
        .with_target("target")
        .with_flattened_event()
        .with_top_level_flattened_span_list()
        .with_opentelemetry_ids(true);
    layer
}

/// Where finished lines go.
pub(crate) struct LineSink {
    pub writer: LogWriter,
    pub format: LogFormat,
    pub colour: bool,
    pub service: String,
    pub environment: String,
    pub version: String,
    pub recorder: Option<FlightRecorder>,
}

impl LineSink {
    /// Processes one line as formatted by json-subscriber.
    pub(crate) fn process(&self, raw: &str) {
        let mut fields = match serde_json::from_str::<Map<String, Value>>(raw) {
            Ok(fields) => fields,
            Err(error) => {
                // Never emit invalid JSON: keep the text, scrubbed, as a field.
                let mut fields = Map::new();
                fields.insert("level".into(), "ERROR".into());
                fields.insert(
                    "message".into(),
                    format!("unformattable log line: {error}").into(),
                );
                fields.insert("raw".into(), raw.into());
                fields
            }
        };
        if let Some(Value::Object(ids)) = fields.remove("openTelemetry") {
            if let Some(trace_id) = ids.get("traceId") {
                fields.insert("trace_id".into(), trace_id.clone());
            }
            if let Some(span_id) = ids.get("spanId") {
                fields.insert("span_id".into(), span_id.clone());
            }
        }
        // A `service` span field (the HTTP layer's) names the service a
        // request belongs to when one process hosts several.
        fields
            .entry("service")
            .or_insert_with(|| self.service.clone().into());
        fields
            .entry("environment")
            .or_insert_with(|| self.environment.clone().into());
        fields
            .entry("version")
            .or_insert_with(|| self.version.clone().into());
        for (key, value) in fields.iter_mut() {
            scrub_json(Some(key), value);
        }
        let json = ordered_json(&fields);
        if let (Some(recorder), Some(Value::String(trace_id))) =
            (&self.recorder, fields.get("trace_id"))
        {
            recorder.add_log(trace_id, &json);
        }
        match self.format {
            LogFormat::Json => self.writer.write_line(&json),
            LogFormat::Pretty => self.writer.write_line(&pretty_line(&fields, self.colour)),
        }
    }
}

/// Serialises `fields` with the leading keys first, then the rest.
pub fn ordered_json(fields: &Map<String, Value>) -> String {
    let mut out = String::with_capacity(256);
    out.push('{');
    let mut first = true;
    let mut push = |out: &mut String, key: &str, value: &Value| {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(&Value::String(key.to_owned()).to_string());
        out.push(':');
        out.push_str(&value.to_string());
    };
    for key in LEADING_KEYS {
        if let Some(value) = fields.get(key) {
            push(&mut out, key, value);
        }
    }
    for (key, value) in fields {
        if !LEADING_KEYS.contains(&key.as_str()) {
            push(&mut out, key, value);
        }
    }
    out.push('}');
    out
}

/// `12:00:00.123Z  INFO target: message key=value … trace_id=…`
pub fn pretty_line(fields: &Map<String, Value>, colour: bool) -> String {
    let text = |key: &str| match fields.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let level = text("level");
    let (on, dim, off) = if colour {
        let on = match level.as_str() {
            "ERROR" => "\x1b[31m",
            "WARN" => "\x1b[33m",
            "INFO" => "\x1b[32m",
            _ => "\x1b[34m",
        };
        (on, "\x1b[2m", "\x1b[0m")
    } else {
        ("", "", "")
    };
    let timestamp = text("timestamp");
    let mut line = format!(
        "{dim}{timestamp}{off} {on}{level:>5}{off} {dim}{}:{off} {}",
        text("target"),
        text("message")
    );
    for (key, value) in fields {
        if matches!(
            key.as_str(),
            "timestamp" | "level" | "target" | "message" | "environment" | "version" | "span_id"
        ) {
            continue;
        }
        let value = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        line.push_str(&format!(" {dim}{key}={off}{value}"));
    }
    line
}

/// The `MakeWriter` json-subscriber writes each event into.
pub(crate) struct SinkWriter(pub(crate) Arc<LineSink>);

impl<'a> MakeWriter<'a> for SinkWriter {
    type Writer = LineBuffer<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineBuffer {
            buffer: Vec::with_capacity(256),
            sink: &self.0,
        }
    }
}

/// Collects one event's output; processes it when dropped.
pub(crate) struct LineBuffer<'a> {
    buffer: Vec<u8>,
    sink: &'a LineSink,
}

impl io::Write for LineBuffer<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineBuffer<'_> {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.buffer);
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            self.sink.process(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn leading_keys_come_first() {
        let Value::Object(map) = json!({"z": 1, "message": "m", "timestamp": "t", "level": "INFO"})
        else {
            unreachable!()
        };
        assert_eq!(
            ordered_json(&map),
            r#"{"timestamp":"t","level":"INFO","message":"m","z":1}"#
        );
    }
}
