//! What `init` leaves behind: the guard that flushes on drop, and the
//! handles to change the log filter and read the metrics and the flight
//! recorder.

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;

use crate::flight_recorder::FlightRecorder;
use crate::metrics::PrometheusHandle;
use crate::metrics::otlp::Exporter as MetricsExporter;

/// Targets whose own diagnostics would otherwise loop back into the
/// telemetry they report on (export errors are summarised by one warning
/// from `observe_telemetry` instead).
const QUIET_TARGETS: &[&str] = &[
    "opentelemetry",
    "opentelemetry_sdk",
    "opentelemetry_otlp",
    "opentelemetry_http",
];

/// Why `init` failed or a setting was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InitError {
    /// Telemetry (or another global `tracing` subscriber) is already installed.
    AlreadyInitialized,
    /// The filter directives do not parse.
    InvalidFilter(String),
    /// The tracer provider could not be built.
    Traces(String),
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitError::AlreadyInitialized => {
                f.write_str("a global tracing subscriber is already installed")
            }
            InitError::InvalidFilter(message) => write!(f, "invalid log filter: {message}"),
            InitError::Traces(message) => write!(f, "traces: {message}"),
        }
    }
}

impl std::error::Error for InitError {}

/// Builds the filter from `RUST_LOG`-style directives, silencing the
/// exporters' own diagnostics unless the directives name them.
pub(crate) fn env_filter(directives: &str) -> Result<EnvFilter, InitError> {
    let mut full = directives.trim().to_owned();
    for target in QUIET_TARGETS {
        if !directives.contains(target) {
            if !full.is_empty() {
                full.push(',');
            }
            full.push_str(target);
            full.push_str("=off");
        }
    }
    EnvFilter::builder()
        .parse(&full)
        .map_err(|e| InitError::InvalidFilter(format!("{directives:?}: {e}")))
}

type Reload = dyn Fn(&str) -> Result<(), InitError> + Send + Sync;

/// Changes the log filter at run time, without a restart.
#[derive(Clone)]
pub struct LogFilterHandle {
    reload: Arc<Reload>,
    current: Arc<Mutex<String>>,
}

impl fmt::Debug for LogFilterHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogFilterHandle")
            .field("current", &self.current())
            .finish()
    }
}

impl LogFilterHandle {
    /// `reload` swaps the filters of every output for ones built from
    /// the given directives.
    pub(crate) fn new(
        directives: &str,
        reload: impl Fn(&str) -> Result<(), InitError> + Send + Sync + 'static,
    ) -> Self {
        LogFilterHandle {
            reload: Arc::new(reload),
            current: Arc::new(Mutex::new(directives.to_owned())),
        }
    }

    /// Replaces the filter with `directives` (`RUST_LOG` syntax, e.g.
    /// `"info,shop::payment=debug"`).
    pub fn set(&self, directives: &str) -> Result<(), InitError> {
        (self.reload)(directives)?;
        *self
            .current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = directives.to_owned();
        Ok(())
    }

    /// The directives in force.
    pub fn current(&self) -> String {
        self.current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

/// Everything `init` installed.
pub(crate) struct Installed {
    pub service_name: String,
    pub filter: Option<LogFilterHandle>,
    pub metrics: Option<PrometheusHandle>,
    /// The OTLP metrics push, when an endpoint is set.
    pub metrics_export: Option<MetricsExporter>,
    pub recorder: Option<FlightRecorder>,
    pub provider: Option<SdkTracerProvider>,
    /// The OTLP logs pipeline, when logs are exported.
    pub log_provider: Option<opentelemetry_sdk::logs::SdkLoggerProvider>,
}

static INSTALLED: OnceLock<Arc<Installed>> = OnceLock::new();

pub(crate) fn installed() -> Option<&'static Arc<Installed>> {
    INSTALLED.get()
}

pub(crate) fn set_installed(installed: Arc<Installed>) -> Arc<Installed> {
    INSTALLED.get_or_init(|| installed).clone()
}

/// Keeps the telemetry running; flushes and shuts the trace export down
/// when dropped (keep it alive for the whole of `main`). A guard returned
/// by a second `init` shares the first one's set-up and does nothing on drop.
#[must_use = "telemetry is flushed and shut down when the guard is dropped"]
pub struct TelemetryGuard {
    pub(crate) installed: Option<Arc<Installed>>,
    pub(crate) primary: bool,
}

impl fmt::Debug for TelemetryGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelemetryGuard")
            .field("primary", &self.primary)
            .finish_non_exhaustive()
    }
}

impl TelemetryGuard {
    /// The service name in force.
    pub fn service_name(&self) -> Option<&str> {
        self.installed.as_ref().map(|i| i.service_name.as_str())
    }

    /// The handle that changes the log filter at run time.
    pub fn log_filter(&self) -> Option<LogFilterHandle> {
        self.installed.as_ref().and_then(|i| i.filter.clone())
    }

    /// Replaces the log filter (`RUST_LOG` syntax) without a restart.
    pub fn set_log_filter(&self, directives: &str) -> Result<(), InitError> {
        match self.log_filter() {
            Some(handle) => handle.set(directives),
            None => Err(InitError::AlreadyInitialized),
        }
    }

    /// The Prometheus render handle (`handle.render()` is the `/metrics` body).
    pub fn metrics_handle(&self) -> Option<PrometheusHandle> {
        self.installed.as_ref().and_then(|i| i.metrics.clone())
    }

    /// The flight recorder.
    pub fn flight_recorder(&self) -> Option<FlightRecorder> {
        self.installed.as_ref().and_then(|i| i.recorder.clone())
    }

    /// Exports the finished spans (and, over OTLP, the metrics) now.
    /// Blocks up to the export timeout.
    pub fn force_flush(&self) {
        if let Some(export) = self
            .installed
            .as_ref()
            .and_then(|i| i.metrics_export.as_ref())
        {
            export.flush(Duration::from_secs(5));
        }
        if let Some(provider) = self.installed.as_ref().and_then(|i| i.provider.clone()) {
            // On a thread of its own: the exporter may need the caller's runtime to progress.
            let _ = std::thread::spawn(move || provider.force_flush()).join();
        }
        if let Some(logs) = self.installed.as_ref().and_then(|i| i.log_provider.clone()) {
            let _ = std::thread::spawn(move || logs.force_flush()).join();
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if !self.primary {
            return;
        }
        if let Some(export) = self
            .installed
            .as_ref()
            .and_then(|i| i.metrics_export.as_ref())
        {
            export.flush(Duration::from_secs(5));
        }
        if let Some(provider) = self.installed.as_ref().and_then(|i| i.provider.clone()) {
            let _ = std::thread::spawn(move || {
                let _ = provider.force_flush();
                let _ = provider.shutdown_with_timeout(Duration::from_secs(5));
            })
            .join();
        }
        if let Some(logs) = self.installed.as_ref().and_then(|i| i.log_provider.clone()) {
            let _ = std::thread::spawn(move || {
                let _ = logs.force_flush();
                let _ = logs.shutdown_with_timeout(Duration::from_secs(5));
            })
            .join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exporter_targets_are_quiet_unless_named() {
        let text = env_filter("info").unwrap().to_string();
        assert!(text.contains("opentelemetry_sdk=off"), "{text}");
        let text = env_filter("info,opentelemetry_sdk=debug")
            .unwrap()
            .to_string();
        assert!(
            text.contains("opentelemetry_sdk=debug") && !text.contains("opentelemetry_sdk=off"),
            "{text}"
        );
        assert!(env_filter("info,[").is_err());
    }
}
