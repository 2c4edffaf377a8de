//! OTLP logs: every line the log output writes (or flushes from a trace's
//! buffer) is also emitted as an OpenTelemetry log record, built from the
//! finished, redacted JSON line, never from the raw event fields, so it
//! holds exactly what stdout holds: its trace context, severity, body,
//! attributes and (from the provider) the service resource. A batch
//! processor with a bounded queue exports them; an endpoint that is down
//! costs one warning until it recovers.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry::{Key, StringValue};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{
    BatchConfigBuilder, BatchLogProcessor, LogBatch, LogExporter, SdkLogger, SdkLoggerProvider,
};
use serde_json::Value;

use crate::config::{OtlpProtocol, Settings};
use crate::redaction::EndpointSecrets;

/// Records waiting for export at most (then new ones are dropped).
const EXPORT_QUEUE: usize = 2048;

/// Emits the output's lines as OTLP log records.
pub(crate) struct OtlpLogs {
    logger: SdkLogger,
}

impl fmt::Debug for OtlpLogs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OtlpLogs")
    }
}

/// The logs pipeline `init` keeps: the emitter, and what must outlive it.
pub(crate) struct Built {
    pub logs: OtlpLogs,
    pub provider: SdkLoggerProvider,
    pub runtime: Option<tokio::runtime::Runtime>,
}

/// The logs pipeline, when an endpoint is set and logs export is not off.
pub(crate) fn build(settings: &Settings) -> Result<Option<Built>, String> {
    let Some(endpoint) = &settings.otlp_logs_endpoint else {
        return Ok(None);
    };
    let timeout = Duration::from_secs(5);
    let (exporter, runtime) = match settings.otlp_protocol {
        OtlpProtocol::HttpProtobuf => {
            let exporter = opentelemetry_otlp::LogExporter::builder()
                .with_http()
                .with_endpoint(endpoint.clone())
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .with_timeout(timeout)
                .build()
                .map_err(|e| format!("OTLP/HTTP logs exporter: {e}"))?;
            (exporter, None)
        }
        OtlpProtocol::Grpc => {
            // tonic needs a Tokio runtime to build its channel and to run it.
            let own_runtime = crate::traces::grpc_runtime("observe-otlp-logs")?;
            let entered = own_runtime.as_ref().map(tokio::runtime::Runtime::enter);
            let exporter = opentelemetry_otlp::LogExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint.clone())
                .with_timeout(timeout)
                .build();
            drop(entered);
            match exporter {
                Ok(exporter) => (exporter, own_runtime),
                Err(error) => {
                    // Dropping a runtime inside an async context panics; this one is idle.
                    std::mem::forget(own_runtime);
                    return Err(format!("OTLP/gRPC logs exporter: {error}"));
                }
            }
        }
    };
    let processor = BatchLogProcessor::builder(QuietLogExporter::new(exporter, endpoint))
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(EXPORT_QUEUE)
                .build(),
        )
        .build();
    let provider = SdkLoggerProvider::builder()
        .with_resource(settings.resource.clone())
        .with_log_processor(processor)
        .build();
    let logger = provider.logger("observe");
    Ok(Some(Built {
        logs: OtlpLogs { logger },
        provider,
        runtime,
    }))
}

fn severity(level: &str) -> (Severity, &'static str) {
    match level {
        "ERROR" => (Severity::Error, "ERROR"),
        "WARN" => (Severity::Warn, "WARN"),
        "INFO" => (Severity::Info, "INFO"),
        "DEBUG" => (Severity::Debug, "DEBUG"),
        _ => (Severity::Trace, "TRACE"),
    }
}

fn any_value(value: Value) -> AnyValue {
    match value {
        Value::Null => AnyValue::String(StringValue::from("")),
        Value::Bool(b) => AnyValue::Boolean(b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => AnyValue::Int(i),
            None => AnyValue::Double(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => AnyValue::String(s.into()),
        other => AnyValue::String(other.to_string().into()),
    }
}

impl OtlpLogs {
    /// Emits one finished JSON line (redacted already) as a log record.
    pub(crate) fn emit(&self, line: &[u8]) {
        let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(line) else {
            return;
        };
        let mut record = self.logger.create_log_record();
        let (mut trace_id, mut span_id) = (None, None);
        for (key, value) in fields {
            match (key.as_str(), value) {
                ("timestamp", Value::String(text)) => {
                    if let Some(time) = parse_rfc3339(&text) {
                        record.set_timestamp(time);
                    }
                }
                ("level", Value::String(level)) => {
                    let (number, text) = severity(&level);
                    record.set_severity_number(number);
                    record.set_severity_text(text);
                }
                ("message", Value::String(message)) => {
                    record.set_body(AnyValue::String(message.into()))
                }
                ("trace_id", Value::String(id)) => trace_id = TraceId::from_hex(&id).ok(),
                ("span_id", Value::String(id)) => span_id = SpanId::from_hex(&id).ok(),
                ("target", Value::String(target)) => record.set_target(target),
                // The resource carries them.
                ("service" | "environment" | "version", _) => {}
                (_, value) => record.add_attribute(Key::new(key), any_value(value)),
            }
        }
        record.set_observed_timestamp(SystemTime::now());
        if let (Some(trace_id), Some(span_id)) = (trace_id, span_id) {
            record.set_trace_context(trace_id, span_id, None);
        }
        self.logger.emit(record);
    }
}

/// `2026-12-01T22:07:21.190160Z` (what the log output writes).
fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let fraction = text.get(19..)?.trim_end_matches('Z');
    let nanos = match fraction.strip_prefix('.') {
        Some(digits) if !digits.is_empty() && digits.len() <= 9 => {
            digits.parse::<u64>().ok()? * 10u64.pow(9 - digits.len() as u32)
        }
        _ => 0,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
    let seconds = u64::try_from(seconds).ok()?;
    Some(UNIX_EPOCH + Duration::new(seconds, nanos as u32))
}

/// Turns a failing endpoint into one warning (until it recovers).
struct QuietLogExporter<E> {
    inner: E,
    endpoint: String,
    secrets: EndpointSecrets,
    failing: Arc<AtomicBool>,
}

impl<E> QuietLogExporter<E> {
    fn new(inner: E, endpoint: &str) -> Self {
        QuietLogExporter {
            inner,
            // Printed in warnings: never with the password of its user-info.
            secrets: EndpointSecrets::of([endpoint]),
            endpoint: EndpointSecrets::shown(endpoint),
            failing: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl<E> fmt::Debug for QuietLogExporter<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QuietLogExporter")
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl<E: LogExporter> LogExporter for QuietLogExporter<E> {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let count = batch.iter().count();
        let result = self.inner.export(batch).await;
        match &result {
            Err(error) => {
                if !self.failing.swap(true, Ordering::Relaxed) {
                    // Written to stderr, not logged: a log line here would be
                    // exported again to the endpoint that is down.
                    eprintln!(
                        "observe: OTLP log export to {} failed ({}); {count} records dropped, and records are dropped while the endpoint is unreachable (not repeated until it recovers)",
                        self.endpoint,
                        self.secrets.scrub(&error.to_string())
                    );
                }
            }
            Ok(()) => self.failing.store(false, Ordering::Relaxed),
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        self.inner.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_as_written() {
        let time = parse_rfc3339("2026-12-01T22:07:21.190160Z").unwrap();
        let since = time.duration_since(UNIX_EPOCH).unwrap();
        assert_eq!(since.as_secs(), 1_796_162_841);
        assert_eq!(since.subsec_micros(), 190_160);
        assert_eq!(parse_rfc3339("nonsense"), None);
    }
}
