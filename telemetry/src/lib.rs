//! `observe::init`: one call that installs JSON logs with redaction,
//! OpenTelemetry traces exported over OTLP, a Prometheus metrics exporter
//! with real histogram buckets, and an in-process flight recorder of
//! recent traces; and, behind the `http` feature, the axum layer, the
//! health/metrics/debug routes and a propagating HTTP client.
//!
//! ```no_run
//! let _telemetry = observe_telemetry::init();
//! tracing::info!(order_id = 42, "ready");
//! ```
//!
//! One module per part: [`config`] (the builder and the environment),
//! `logs` (the log output, with its per-trace buffer and its gate),
//! `flows` (run-time knobs), `log_bridge`, `panic_hook`, `otlp_logs`,
//! [`redaction`], `traces` (with `export_decision`), [`metrics`] (with
//! `exemplar_ids`), [`mod@flight_recorder`], `guard`, and [`http`].
#![deny(missing_docs)]

pub mod config;
mod exemplar_ids;
mod export_decision;
mod filter;
pub mod flight_recorder;
mod flows;
mod guard;
#[cfg(feature = "http")]
pub mod http;
mod log_bridge;
mod logs;
pub mod metrics;
mod otlp_logs;
mod panic_hook;
pub mod redaction;
mod traces;
mod verdicts;

use std::sync::Arc;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{Registry, reload};

pub use config::{
    CapturedLogs, LogBufferConfig, LogFormat, LogWriter, MetricsTemporality, OtlpProtocol,
    SamplerConfig, Telemetry,
};
pub use flight_recorder::{
    FlightRecorder, FlightRecorderConfig, KeepReason, RecordedTrace, SpanEventRecord, SpanRecord,
    SpanStatus, WaterfallStyle,
};
pub use flows::{Change, FlowKnobs, Flows, flows};
pub use guard::{InitError, LogFilterHandle, TelemetryGuard};
pub use logs::buffer::buffered_bytes as log_buffer_bytes;
pub use logs::{ordered_json, pretty_line};
pub use metrics::{MetricsConfig, PrometheusHandle};
pub use traces::{SpanBridge, context_of, set_parent, trace_id_of};

/// Installs logs, traces, metrics and the flight recorder, configured from
/// the environment (`RUST_LOG`, `OBSERVE_LOG_FORMAT`, `OBSERVE_METRICS_ADDR`,
/// `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_PROTOCOL`,
/// `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`,
/// `OTEL_TRACES_SAMPLER_ARG`; for metrics `OBSERVE_METRIC_CARDINALITY_LIMIT`,
/// `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, `OTEL_EXPORTER_OTLP_METRICS_PROTOCOL`,
/// `OTEL_METRICS_EXPORTER`, `OTEL_METRIC_EXPORT_INTERVAL`,
/// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`: see docs/metrics.md;
/// for logs `OBSERVE_LOG_BUFFER*`, `OBSERVE_LOG_STDOUT`,
/// `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` and `OTEL_LOGS_EXPORTER`: see
/// docs/logs.md). Keep the guard alive for the whole program: dropping it
/// flushes the trace and metrics export. Never fails: a problem is reported
/// on stderr and the rest still works. Use [`Telemetry::builder`] to set
/// defaults, or [`Telemetry::try_init`] to handle errors.
pub fn init() -> TelemetryGuard {
    Telemetry::builder().init()
}

/// The Prometheus render handle installed by `init`.
pub fn metrics_handle() -> Option<PrometheusHandle> {
    guard::installed().and_then(|installed| installed.metrics.clone())
}

/// The flight recorder installed by `init`.
pub fn flight_recorder() -> Option<FlightRecorder> {
    FlightRecorder::global()
}

impl Telemetry {
    /// Installs everything; on error, reports it on stderr and returns a
    /// guard (sharing the set-up already installed, if any).
    pub fn init(self) -> TelemetryGuard {
        match self.try_init() {
            Ok(guard) => guard,
            Err(InitError::AlreadyInitialized) => TelemetryGuard {
                installed: guard::installed().cloned(),
                primary: false,
            },
            Err(error) => {
                eprintln!("observe: telemetry was not installed: {error}");
                TelemetryGuard {
                    installed: guard::installed().cloned(),
                    primary: false,
                }
            }
        }
    }

    /// Installs everything, or says why not.
    pub fn try_init(self) -> Result<TelemetryGuard, InitError> {
        if guard::installed().is_some() {
            return Err(InitError::AlreadyInitialized);
        }
        let mut settings = self.resolve();
        // observe's own messages never show these, whatever they hold.
        let secrets = redaction::EndpointSecrets::of(
            [
                settings.otlp_endpoint.as_deref(),
                settings.otlp_logs_endpoint.as_deref(),
                settings.otlp_metrics.as_ref().map(|m| m.endpoint.as_str()),
            ]
            .into_iter()
            .flatten(),
        );
        let directives = match guard::env_filter(&settings.log_filter) {
            Ok(_) => settings.log_filter.clone(),
            Err(error) => {
                settings.warnings.push(format!("{error}; using `info`"));
                "info".to_owned()
            }
        };
        // One filter per output, reloaded together (see `filter`).
        let (log_filter, log_reload) = reload::Layer::new(guard::env_filter(&directives)?);
        let (trace_filter, trace_reload) = reload::Layer::new(guard::env_filter(&directives)?);
        let mut buffer_filter = match &settings.log_buffer.directives {
            Some(directives) if settings.log_buffer.enabled && !directives.is_empty() => {
                match guard::env_filter(directives) {
                    Ok(filter) => Some(filter),
                    Err(error) => {
                        settings.warnings.push(format!(
                            "OBSERVE_LOG_BUFFER: {error}; lines are not buffered"
                        ));
                        None
                    }
                }
            }
            _ => None,
        };

        let recorder = settings.flight_recorder.enabled.then(|| {
            FlightRecorder::redacting(
                settings.flight_recorder.clone(),
                settings.service_name.clone(),
                traces::scrub_span_memo,
            )
        });
        let traces = match traces::build(&settings, recorder.as_ref()) {
            Ok(traces) => traces,
            Err(error) => {
                settings
                    .warnings
                    .push(format!("{error}; spans are not exported"));
                settings.otlp_endpoint = None;
                traces::build(&settings, recorder.as_ref())
                    .map_err(|error| InitError::Traces(secrets.scrub(&error)))?
            }
        };

        let otlp_logs = match otlp_logs::build(&settings) {
            Ok(built) => built,
            Err(error) => {
                settings
                    .warnings
                    .push(format!("{error}; log records are not exported"));
                None
            }
        };
        let (otlp, log_provider, logs_runtime) = match otlp_logs {
            Some(built) => (Some(built.logs), Some(built.provider), built.runtime),
            None => (None, None, None),
        };
        let sink = logs::LineSink {
            otlp,
            stdout: settings.log_stdout,
            writer: settings.log_writer.clone(),
            format: settings.log_format,
            colour: settings.colour,
            service: settings.service_name.clone(),
            environment: settings.environment.clone(),
            version: settings.service_version.clone(),
            recorder: recorder.clone(),
        };
        let subscriber = Registry::default()
            .with(filter::Output::new(
                // It also keeps the exemplar ids of the entered span
                // (`exemplar_ids`).
                traces::bridge(&traces),
                filter::InfoFloor::spans_and_events(trace_filter),
            ))
            .with(filter::Output::new(
                logs::layer(sink),
                logs::gate::LogGate::new(
                    filter::InfoFloor::spans(log_filter),
                    buffer_filter.take(),
                ),
            ));
        if tracing::subscriber::set_global_default(subscriber).is_err() {
            let _ = traces.provider.shutdown();
            // Dropping a runtime inside an async context panics.
            std::mem::forget(traces.runtime);
            std::mem::forget(logs_runtime);
            return Err(InitError::AlreadyInitialized);
        }

        // An exemplar is shown once its trace is known to be kept: sampled
        // and exported, or kept by the flight recorder.
        let exported = settings.otlp_endpoint.is_some();
        let kept: Arc<dyn Fn(&metrics::Exemplar) -> bool + Send + Sync> =
            Arc::new(move |exemplar: &metrics::Exemplar| {
                (exported && exemplar.sampled)
                    || FlightRecorder::global().is_some_and(|r| r.is_kept(exemplar.trace_id))
            });
        let metrics = match metrics::install(settings.metrics.clone(), settings.metrics_addr, kept)
        {
            Ok(handle) => Some(handle),
            Err(error) => {
                settings.warnings.push(error);
                None
            }
        };
        let metrics_export = match (&metrics, settings.otlp_metrics.clone()) {
            (Some(handle), Some(otlp)) => {
                match metrics::otlp::start(handle.registry().clone(), otlp, &settings.resource) {
                    Ok(exporter) => Some(exporter),
                    Err(error) => {
                        settings
                            .warnings
                            .push(format!("{error}; metrics are not pushed over OTLP"));
                        None
                    }
                }
            }
            _ => None,
        };
        if let Some(recorder) = &recorder {
            recorder.install_global();
        }
        if settings.log_buffer.enabled {
            logs::buffer::install(settings.log_buffer.clone());
        }
        if settings.log_bridge
            && let Some(warning) = log_bridge::install()
        {
            settings.warnings.push(warning);
        }
        panic_hook::install();
        for warning in &settings.warnings {
            tracing::warn!(target: "observe_telemetry", "{}", secrets.scrub(warning));
        }
        let installed = guard::set_installed(Arc::new(guard::Installed {
            service_name: settings.service_name,
            filter: Some(LogFilterHandle::new(&directives, move |directives| {
                let reload =
                    |e: tracing_subscriber::reload::Error| InitError::InvalidFilter(e.to_string());
                log_reload
                    .reload(guard::env_filter(directives)?)
                    .map_err(reload)?;
                trace_reload
                    .reload(guard::env_filter(directives)?)
                    .map_err(reload)
            })),
            metrics,
            metrics_export,
            recorder,
            provider: Some(traces.provider),
            log_provider,
        }));
        if let Some(runtime) = logs_runtime {
            std::mem::forget(runtime);
        }
        // The gRPC exporter's runtime must outlive the provider.
        if let Some(runtime) = traces.runtime {
            std::mem::forget(runtime);
        }
        Ok(TelemetryGuard {
            installed: Some(installed),
            primary: true,
        })
    }
}
