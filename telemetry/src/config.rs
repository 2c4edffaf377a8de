//! What `init` reads: the builder's values, then the standard environment
//! variables, which win so an operator can re-target a binary without a
//! rebuild.

use std::fmt;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;

use crate::flight_recorder::FlightRecorderConfig;
use crate::metrics::MetricsConfig;
use crate::metrics::otlp::OtlpMetricsSettings;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (the default).
    Json,
    /// A human-readable line, coloured on a terminal (`OBSERVE_LOG_FORMAT=pretty`).
    Pretty,
}

/// The OTLP transport (`OTEL_EXPORTER_OTLP_PROTOCOL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// `http/protobuf` (the default), to `{endpoint}/v1/traces`.
    HttpProtobuf,
    /// `grpc`, through tonic.
    Grpc,
}

/// The head sampler (`OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`).
/// It decides what is exported; the flight recorder sees every trace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SamplerConfig {
    /// `always_on`.
    AlwaysOn,
    /// `always_off`.
    AlwaysOff,
    /// `traceidratio` with the given ratio.
    TraceIdRatio(f64),
    /// `parentbased_always_on` (the default).
    ParentBasedAlwaysOn,
    /// `parentbased_always_off`.
    ParentBasedAlwaysOff,
    /// `parentbased_traceidratio` with the given ratio.
    ParentBasedTraceIdRatio(f64),
}

impl SamplerConfig {
    /// Parses the `OTEL_TRACES_SAMPLER` name and its argument.
    pub fn parse(name: &str, arg: Option<&str>) -> Option<Self> {
        let ratio = || {
            arg.and_then(|a| a.trim().parse::<f64>().ok())
                .map_or(1.0, |r| r.clamp(0.0, 1.0))
        };
        Some(match name.trim() {
            "always_on" => SamplerConfig::AlwaysOn,
            "always_off" => SamplerConfig::AlwaysOff,
            "traceidratio" => SamplerConfig::TraceIdRatio(ratio()),
            "parentbased_always_on" => SamplerConfig::ParentBasedAlwaysOn,
            "parentbased_always_off" => SamplerConfig::ParentBasedAlwaysOff,
            "parentbased_traceidratio" => SamplerConfig::ParentBasedTraceIdRatio(ratio()),
            _ => return None,
        })
    }
}

/// The aggregation temporality of OTLP metrics
/// (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsTemporality {
    /// `cumulative` (the default): totals since the process started.
    Cumulative,
    /// `delta`: the change since the previous export.
    Delta,
    /// `lowmemory`: delta for counters and histograms (all of observe's
    /// counters are synchronous, so it equals `delta` here).
    LowMemory,
}

/// Per-trace log buffering: the lines a trace's output would not write,
/// held until its local root span ends and written only if the trace
/// failed (an error, a panic or a slow call). Each limit is also read from
/// the environment, which wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogBufferConfig {
    /// Buffering on (`OBSERVE_LOG_BUFFER=off` turns it off).
    pub enabled: bool,
    /// Which events are held (`OBSERVE_LOG_BUFFER`, `RUST_LOG` syntax).
    /// `None`: DEBUG for the crates that contain `#[observe]` functions.
    pub directives: Option<String>,
    /// Lines held per trace (`OBSERVE_LOG_BUFFER_LINES`). Default 256.
    pub max_lines_per_trace: usize,
    /// Bytes held per trace (`OBSERVE_LOG_BUFFER_BYTES`). Default 64 KiB.
    pub max_bytes_per_trace: usize,
    /// Bytes held across all traces (`OBSERVE_LOG_BUFFER_TOTAL_BYTES`).
    /// Default 8 MiB.
    pub max_total_bytes: usize,
}

impl Default for LogBufferConfig {
    fn default() -> Self {
        LogBufferConfig {
            enabled: true,
            directives: None,
            max_lines_per_trace: 256,
            max_bytes_per_trace: 64 * 1024,
            max_total_bytes: 8 * 1024 * 1024,
        }
    }
}

impl LogBufferConfig {
    /// Buffering off.
    pub fn disabled() -> Self {
        LogBufferConfig {
            enabled: false,
            ..LogBufferConfig::default()
        }
    }

    /// The default directives: DEBUG for every crate of the catalog.
    pub(crate) fn default_directives() -> String {
        let mut crates: Vec<&str> = observe_runtime::catalog()
            .map(|f| f.meta.module.split("::").next().unwrap_or(f.meta.module))
            .collect();
        crates.sort_unstable();
        crates.dedup();
        crates
            .iter()
            .map(|krate| format!("{krate}=debug"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// A destination for log lines other than stdout (a file, a test buffer).
#[derive(Clone)]
pub struct LogWriter(pub(crate) Arc<Mutex<dyn Write + Send>>);

/// The lines a [`LogWriter::memory`] writer received.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    /// Everything written so far.
    pub fn text(&self) -> String {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Every line written so far.
    pub fn lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_owned).collect()
    }
}

impl Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl LogWriter {
    /// Writes lines to `writer`.
    pub fn new(writer: impl Write + Send + 'static) -> Self {
        LogWriter(Arc::new(Mutex::new(writer)))
    }

    /// Writes lines to stdout.
    pub fn stdout() -> Self {
        LogWriter::new(io::stdout())
    }

    /// Writes lines to stderr.
    pub fn stderr() -> Self {
        LogWriter::new(io::stderr())
    }

    /// Keeps lines in memory, for tests: the writer, and the handle that
    /// reads what was written.
    pub fn memory() -> (Self, CapturedLogs) {
        let logs = CapturedLogs::default();
        (LogWriter::new(logs.clone()), logs)
    }

    /// Writes one finished line (its newline included) in one call.
    pub(crate) fn write_all(&self, bytes: &[u8]) {
        let mut writer = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // A log line that cannot be written has nowhere better to go.
        let _ = writer.write_all(bytes);
        let _ = writer.flush();
    }
}

impl fmt::Debug for LogWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LogWriter")
    }
}

/// The builder for everything `init` sets up. Each value here is a
/// default; the matching environment variable wins when it is set.
///
/// ```no_run
/// let _telemetry = observe_telemetry::Telemetry::builder()
///     .service_name("shop")
///     .service_version(env!("CARGO_PKG_VERSION"))
///     .init();
/// ```
#[derive(Debug, Default)]
#[must_use]
pub struct Telemetry {
    pub(crate) service_name: Option<String>,
    pub(crate) service_version: Option<String>,
    pub(crate) environment: Option<String>,
    pub(crate) log_format: Option<LogFormat>,
    pub(crate) log_filter: Option<String>,
    pub(crate) log_writer: Option<LogWriter>,
    pub(crate) colour: Option<bool>,
    pub(crate) otlp_endpoint: Option<String>,
    pub(crate) otlp_protocol: Option<OtlpProtocol>,
    pub(crate) sampler: Option<SamplerConfig>,
    pub(crate) metrics_addr: Option<SocketAddr>,
    pub(crate) flight_recorder: Option<FlightRecorderConfig>,
    pub(crate) resource_attributes: Vec<KeyValue>,
    pub(crate) metric_cardinality_limit: Option<usize>,
    pub(crate) metric_cardinality_limits: Vec<(String, usize)>,
    pub(crate) histogram_buckets: Vec<(String, Vec<f64>)>,
    pub(crate) otlp_metrics_endpoint: Option<String>,
    pub(crate) metrics_export_interval: Option<Duration>,
    pub(crate) metrics_temporality: Option<MetricsTemporality>,
    pub(crate) log_buffer: Option<LogBufferConfig>,
    pub(crate) log_bridge: Option<bool>,
}

impl Telemetry {
    /// A builder with nothing set: everything comes from the environment or
    /// the defaults.
    pub fn builder() -> Self {
        Telemetry::default()
    }

    /// `service.name` (`OTEL_SERVICE_NAME` wins). Default: the executable's name.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// `service.version` (`service.version` in `OTEL_RESOURCE_ATTRIBUTES` wins).
    pub fn service_version(mut self, version: impl Into<String>) -> Self {
        self.service_version = Some(version.into());
        self
    }

    /// `deployment.environment.name` (`OTEL_RESOURCE_ATTRIBUTES` wins).
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = Some(environment.into());
        self
    }

    /// Another resource attribute.
    pub fn resource_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.resource_attributes
            .push(KeyValue::new(key.into(), value.into()));
        self
    }

    /// The log format (`OBSERVE_LOG_FORMAT` wins: `json` or `pretty`).
    pub fn log_format(mut self, format: LogFormat) -> Self {
        self.log_format = Some(format);
        self
    }

    /// The filter directives (`RUST_LOG` wins). Default: `info`.
    pub fn log_filter(mut self, directives: impl Into<String>) -> Self {
        self.log_filter = Some(directives.into());
        self
    }

    /// Where log lines go. Default: stdout.
    pub fn log_writer(mut self, writer: LogWriter) -> Self {
        self.log_writer = Some(writer);
        self
    }

    /// Colour in the pretty format. Default: only when stdout is a terminal.
    pub fn colour(mut self, colour: bool) -> Self {
        self.colour = Some(colour);
        self
    }

    /// The OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT` wins). Without one,
    /// nothing is exported (the flight recorder still works).
    pub fn otlp_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.otlp_endpoint = Some(endpoint.into());
        self
    }

    /// The OTLP transport (`OTEL_EXPORTER_OTLP_PROTOCOL` wins).
    pub fn otlp_protocol(mut self, protocol: OtlpProtocol) -> Self {
        self.otlp_protocol = Some(protocol);
        self
    }

    /// The head sampler (`OTEL_TRACES_SAMPLER` wins).
    pub fn traces_sampler(mut self, sampler: SamplerConfig) -> Self {
        self.sampler = Some(sampler);
        self
    }

    /// Serve `/metrics` on this address too (`OBSERVE_METRICS_ADDR` wins).
    pub fn metrics_addr(mut self, addr: SocketAddr) -> Self {
        self.metrics_addr = Some(addr);
        self
    }

    /// The flight recorder's bounds and sampling.
    pub fn flight_recorder(mut self, config: FlightRecorderConfig) -> Self {
        self.flight_recorder = Some(config);
        self
    }

    /// The cap on series per metric name, the overflow series included
    /// (`OBSERVE_METRIC_CARDINALITY_LIMIT` wins; 0: no cap). Default: 2000.
    /// observe's own `flow_*` series are never capped.
    pub fn metric_cardinality_limit(mut self, limit: usize) -> Self {
        self.metric_cardinality_limit = Some(limit);
        self
    }

    /// The cap of one metric, whatever the global one.
    pub fn metric_cardinality_limit_for(mut self, metric: impl Into<String>, limit: usize) -> Self {
        self.metric_cardinality_limits.push((metric.into(), limit));
        self
    }

    /// The bucket boundaries of one histogram (sorted ascending; the
    /// `+Inf` bucket is implied).
    pub fn histogram_buckets(mut self, metric: impl Into<String>, bounds: &[f64]) -> Self {
        let mut bounds: Vec<f64> = bounds.iter().copied().filter(|b| b.is_finite()).collect();
        bounds.sort_by(f64::total_cmp);
        bounds.dedup();
        self.histogram_buckets.push((metric.into(), bounds));
        self
    }

    /// The OTLP metrics endpoint (`OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`
    /// wins): a full URL for http/protobuf. Default: the OTLP endpoint,
    /// plus `/v1/metrics` for http/protobuf.
    pub fn otlp_metrics_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.otlp_metrics_endpoint = Some(endpoint.into());
        self
    }

    /// How often metrics are pushed over OTLP (`OTEL_METRIC_EXPORT_INTERVAL`,
    /// in milliseconds, wins). Default: 60 s.
    pub fn metrics_export_interval(mut self, interval: Duration) -> Self {
        self.metrics_export_interval = Some(interval);
        self
    }

    /// The OTLP metrics temporality
    /// (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` wins).
    pub fn metrics_temporality(mut self, temporality: MetricsTemporality) -> Self {
        self.metrics_temporality = Some(temporality);
        self
    }

    /// Per-trace log buffering: what is held and its limits (the
    /// `OBSERVE_LOG_BUFFER*` variables win).
    pub fn log_buffer(mut self, config: LogBufferConfig) -> Self {
        self.log_buffer = Some(config);
        self
    }

    /// Route records of the `log` crate through the same output (default:
    /// on). Off, another `log` logger can be installed.
    pub fn log_bridge(mut self, on: bool) -> Self {
        self.log_bridge = Some(on);
        self
    }
}

/// The resolved settings: every value decided.
#[derive(Debug)]
pub(crate) struct Settings {
    pub service_name: String,
    pub service_version: String,
    pub environment: String,
    pub resource: Resource,
    pub log_format: LogFormat,
    pub log_filter: String,
    pub log_writer: LogWriter,
    pub colour: bool,
    pub otlp_endpoint: Option<String>,
    /// Where log records are exported (a full URL for http/protobuf),
    /// unless `OTEL_LOGS_EXPORTER=none`.
    pub otlp_logs_endpoint: Option<String>,
    /// Lines go to the writer too (`OBSERVE_LOG_STDOUT=false` turns it off).
    pub log_stdout: bool,
    pub otlp_protocol: OtlpProtocol,
    pub sampler: SamplerConfig,
    pub metrics_addr: Option<SocketAddr>,
    pub flight_recorder: FlightRecorderConfig,
    pub metrics: MetricsConfig,
    /// Set when metrics are pushed over OTLP.
    pub otlp_metrics: Option<OtlpMetricsSettings>,
    /// Buffering, with its directives decided.
    pub log_buffer: LogBufferConfig,
    pub log_bridge: bool,
    /// Problems found while reading the environment, logged once set up.
    pub warnings: Vec<String>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn executable_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|path| {
            path.file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "unknown_service".to_owned())
}

impl Telemetry {
    pub(crate) fn resolve(self) -> Settings {
        use std::io::IsTerminal;
        let mut warnings = Vec::new();

        // The SDK's detectors read OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
        let detected = Resource::builder().build();
        let detected_str = |key: &str| {
            detected
                .get(&opentelemetry::Key::from(key.to_owned()))
                .map(|v| v.as_str().into_owned())
        };
        let service_name = env("OTEL_SERVICE_NAME")
            .or_else(|| {
                detected_str("service.name").filter(|name| !name.starts_with("unknown_service"))
            })
            .or(self.service_name)
            .unwrap_or_else(executable_name);
        let service_version = detected_str("service.version")
            .or(self.service_version)
            .unwrap_or_else(|| "unknown".to_owned());
        let environment = detected_str("deployment.environment.name")
            .or_else(|| detected_str("deployment.environment"))
            .or(self.environment)
            .unwrap_or_else(|| "unknown".to_owned());
        let resource = Resource::builder()
            .with_attributes(self.resource_attributes)
            .with_service_name(service_name.clone())
            .with_attributes([
                KeyValue::new("service.version", service_version.clone()),
                KeyValue::new("deployment.environment.name", environment.clone()),
            ])
            .build();

        let log_format = match env("OBSERVE_LOG_FORMAT").as_deref() {
            Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                warnings.push(format!(
                    "OBSERVE_LOG_FORMAT={other:?} is not `json` or `pretty`; using json"
                ));
                LogFormat::Json
            }
            None => self.log_format.unwrap_or(LogFormat::Json),
        };
        let log_filter = env("RUST_LOG")
            .or(self.log_filter)
            .unwrap_or_else(|| "info".to_owned());
        let colour = self
            .colour
            .unwrap_or_else(|| self.log_writer.is_none() && std::io::stdout().is_terminal());
        let log_writer = self.log_writer.unwrap_or_else(LogWriter::stdout);

        let otlp_endpoint = env("OTEL_EXPORTER_OTLP_ENDPOINT").or(self.otlp_endpoint);
        let otlp_protocol = match env("OTEL_EXPORTER_OTLP_PROTOCOL").as_deref() {
            Some("grpc") => OtlpProtocol::Grpc,
            Some("http/protobuf") => OtlpProtocol::HttpProtobuf,
            Some(other) => {
                warnings.push(format!(
                    "OTEL_EXPORTER_OTLP_PROTOCOL={other:?} is not supported (use `grpc` or `http/protobuf`); using http/protobuf"
                ));
                OtlpProtocol::HttpProtobuf
            }
            None => self.otlp_protocol.unwrap_or(OtlpProtocol::HttpProtobuf),
        };
        let sampler = match env("OTEL_TRACES_SAMPLER") {
            Some(name) => SamplerConfig::parse(&name, env("OTEL_TRACES_SAMPLER_ARG").as_deref())
                .unwrap_or_else(|| {
                    warnings.push(format!(
                        "OTEL_TRACES_SAMPLER={name:?} is not supported; using parentbased_always_on"
                    ));
                    SamplerConfig::ParentBasedAlwaysOn
                }),
            None => self.sampler.unwrap_or(SamplerConfig::ParentBasedAlwaysOn),
        };
        let metrics_addr = match env("OBSERVE_METRICS_ADDR") {
            Some(text) => {
                match text.parse() {
                    Ok(addr) => Some(addr),
                    Err(_) => {
                        warnings.push(format!("OBSERVE_METRICS_ADDR={text:?} is not a socket address like 127.0.0.1:9464"));
                        self.metrics_addr
                    }
                }
            }
            None => self.metrics_addr,
        };

        let mut metrics = MetricsConfig::default();
        if let Some(limit) = self.metric_cardinality_limit {
            metrics.cardinality_limit = limit;
        }
        if let Some(text) = env("OBSERVE_METRIC_CARDINALITY_LIMIT") {
            match text.parse() {
                Ok(limit) => metrics.cardinality_limit = limit,
                Err(_) => warnings.push(format!(
                    "OBSERVE_METRIC_CARDINALITY_LIMIT={text:?} is not a number of series; using {}",
                    metrics.cardinality_limit
                )),
            }
        }
        metrics
            .cardinality_limits
            .extend(self.metric_cardinality_limits);
        metrics.buckets.extend(self.histogram_buckets);
        let otlp_metrics = otlp_metrics(
            self.otlp_metrics_endpoint,
            otlp_endpoint.as_deref(),
            otlp_protocol,
            self.metrics_export_interval,
            self.metrics_temporality,
            &mut warnings,
        );

        let mut log_buffer = self.log_buffer.unwrap_or_default();
        match env("OBSERVE_LOG_BUFFER").as_deref() {
            Some("off" | "false" | "0") => log_buffer.enabled = false,
            Some(directives) => {
                log_buffer.enabled = true;
                log_buffer.directives = Some(directives.to_owned());
            }
            None => {}
        }
        for (name, slot) in [
            (
                "OBSERVE_LOG_BUFFER_LINES",
                &mut log_buffer.max_lines_per_trace,
            ),
            (
                "OBSERVE_LOG_BUFFER_BYTES",
                &mut log_buffer.max_bytes_per_trace,
            ),
            (
                "OBSERVE_LOG_BUFFER_TOTAL_BYTES",
                &mut log_buffer.max_total_bytes,
            ),
        ] {
            if let Some(text) = env(name) {
                match text.parse() {
                    Ok(value) => *slot = value,
                    Err(_) => warnings.push(format!("{name}={text:?} is not a whole number")),
                }
            }
        }
        if log_buffer.directives.is_none() {
            log_buffer.directives = Some(LogBufferConfig::default_directives());
        }

        // The signal-specific variable is used as is; the general one gets
        // the signal's path (for http/protobuf), as the OTLP spec says.
        let logs_off = env("OTEL_LOGS_EXPORTER").is_some_and(|v| v == "none");
        let otlp_logs_endpoint = match env("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") {
            _ if logs_off => None,
            Some(endpoint) => Some(endpoint),
            None => otlp_endpoint.as_ref().map(|endpoint| match otlp_protocol {
                OtlpProtocol::HttpProtobuf => {
                    format!("{}/v1/logs", endpoint.trim_end_matches('/'))
                }
                OtlpProtocol::Grpc => endpoint.clone(),
            }),
        };
        let log_stdout = !matches!(
            env("OBSERVE_LOG_STDOUT").as_deref(),
            Some("false" | "0" | "off")
        );

        Settings {
            otlp_logs_endpoint,
            log_stdout,
            log_buffer,
            log_bridge: self.log_bridge.unwrap_or(true),
            service_name,
            service_version,
            environment,
            resource,
            log_format,
            log_filter,
            log_writer,
            colour,
            otlp_endpoint,
            otlp_protocol,
            sampler,
            metrics_addr,
            flight_recorder: self.flight_recorder.unwrap_or_default(),
            metrics,
            otlp_metrics,
            warnings,
        }
    }
}

/// One rule for every signal: exported over OTLP when an endpoint is set
/// (the signal's own or the shared one), unless its exporter is `none`.
fn otlp_metrics(
    builder_endpoint: Option<String>,
    shared_endpoint: Option<&str>,
    shared_protocol: OtlpProtocol,
    builder_interval: Option<Duration>,
    builder_temporality: Option<MetricsTemporality>,
    warnings: &mut Vec<String>,
) -> Option<OtlpMetricsSettings> {
    match env("OTEL_METRICS_EXPORTER").as_deref() {
        Some("none") => return None,
        Some("otlp") | None => {}
        Some(other) => warnings.push(format!(
            "OTEL_METRICS_EXPORTER={other:?} is not supported (use `otlp` or `none`); using otlp"
        )),
    }
    let protocol = match env("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL").as_deref() {
        Some("grpc") => OtlpProtocol::Grpc,
        Some("http/protobuf") => OtlpProtocol::HttpProtobuf,
        Some(other) => {
            warnings.push(format!(
                "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL={other:?} is not supported; using the traces' protocol"
            ));
            shared_protocol
        }
        None => shared_protocol,
    };
    // The signal's own endpoint is used as given; the shared one gets the
    // signal's path for http/protobuf (as the OTLP exporter spec says).
    let endpoint = match env("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT").or(builder_endpoint) {
        Some(own) => own,
        None => {
            let shared = shared_endpoint?;
            match protocol {
                OtlpProtocol::HttpProtobuf => {
                    format!("{}/v1/metrics", shared.trim_end_matches('/'))
                }
                OtlpProtocol::Grpc => shared.to_owned(),
            }
        }
    };
    let interval = match env("OTEL_METRIC_EXPORT_INTERVAL") {
        Some(text) => match text.parse::<u64>() {
            Ok(ms) if ms > 0 => Duration::from_millis(ms),
            _ => {
                warnings.push(format!(
                    "OTEL_METRIC_EXPORT_INTERVAL={text:?} is not a positive number of milliseconds; using 60000"
                ));
                Duration::from_secs(60)
            }
        },
        None => builder_interval.unwrap_or(Duration::from_secs(60)),
    };
    let temporality = match env("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE")
        .map(|t| t.to_ascii_lowercase())
        .as_deref()
    {
        Some("cumulative") => MetricsTemporality::Cumulative,
        Some("delta") => MetricsTemporality::Delta,
        Some("lowmemory") => MetricsTemporality::LowMemory,
        Some(other) => {
            warnings.push(format!(
                "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE={other:?} is not `cumulative`, `delta` or `lowmemory`; using cumulative"
            ));
            MetricsTemporality::Cumulative
        }
        None => builder_temporality.unwrap_or(MetricsTemporality::Cumulative),
    };
    Some(OtlpMetricsSettings {
        endpoint,
        protocol,
        interval,
        temporality,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampler_names() {
        assert_eq!(
            SamplerConfig::parse("traceidratio", Some("0.25")),
            Some(SamplerConfig::TraceIdRatio(0.25))
        );
        assert_eq!(
            SamplerConfig::parse("parentbased_traceidratio", Some("7")),
            Some(SamplerConfig::ParentBasedTraceIdRatio(1.0))
        );
        assert_eq!(
            SamplerConfig::parse("always_off", None),
            Some(SamplerConfig::AlwaysOff)
        );
        assert_eq!(SamplerConfig::parse("jaeger_remote", None), None);
    }
}
