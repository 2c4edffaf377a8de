//! Metrics: observe's own recorder behind the `metrics` facade, installed
//! as the global recorder. Every histogram has explicit buckets; the call
//! counters and histograms carry exemplars (the trace of a recent call,
//! shown once that trace is known to be kept); a process-wide cardinality
//! guard caps the series of every metric observe does not bound itself;
//! `/metrics` serves the classic Prometheus text or, when asked, the
//! OpenMetrics text with exemplars; and the same series can be pushed over
//! OTLP. One module per part: `series` (storage), `registry` (the recorder
//! and the guard), `render` (the two text formats), `listener`
//! (`OBSERVE_METRICS_ADDR`) and `otlp` (the push).
//!
//! Why not `metrics-exporter-prometheus` (used before): it has no exemplars
//! and no cap, buffers each histogram sample until a render, and its
//! histograms without configured buckets render as summaries. The
//! measurements are in `docs/metrics.md`.

mod listener;
pub(crate) mod otlp;
mod registry;
mod render;
mod series;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use observe_runtime::metric_names::CALL_DURATION_SECONDS;

pub use registry::{METRIC_OVERFLOW_TOTAL, OVERFLOW_LABEL};
use registry::{ObserveRecorder, Registry};
use render::Format;
pub(crate) use series::Exemplar;

/// The HTTP server duration histogram (OpenTelemetry HTTP conventions,
/// Prometheus spelling), by `http_request_method`, `http_route` and
/// `http_response_status_code`.
pub const HTTP_SERVER_REQUEST_DURATION_SECONDS: &str =
    observe_runtime::metric_names::HTTP_SERVER_REQUEST_DURATION_SECONDS;

/// Bucket boundaries, in seconds, of every histogram whose name ends in
/// `_seconds` (observe's call and HTTP durations among them). They
/// include the usual SLO thresholds (0.1, 0.25, 0.3, 0.5, 1) so an alert
/// rule can count the calls under a threshold exactly.
pub const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The bounds of every other histogram: OpenTelemetry's default
/// explicit-bucket boundaries.
pub const DEFAULT_BUCKETS: &[f64] = &[
    0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0, 7500.0,
    10000.0,
];

/// The cap on series per metric name, the overflow series included
/// (OpenTelemetry's default cardinality limit).
pub const DEFAULT_CARDINALITY_LIMIT: usize = 2000;

/// The classic Prometheus text format's content type.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// The OpenMetrics text format's content type.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The recorder's bounds: the cardinality caps and the histogram buckets.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsConfig {
    /// Series per metric name, the overflow series included; 0: no cap.
    pub cardinality_limit: usize,
    /// Caps of particular metrics, by name.
    pub cardinality_limits: HashMap<String, usize>,
    /// Bucket boundaries of particular histograms, by name.
    pub buckets: HashMap<String, Vec<f64>>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            cardinality_limit: DEFAULT_CARDINALITY_LIMIT,
            cardinality_limits: HashMap::new(),
            buckets: HashMap::new(),
        }
    }
}

/// Whether an `Accept` header asks for the OpenMetrics text (Prometheus
/// sends `application/openmetrics-text;version=1.0.0,...;q=...`).
pub fn wants_openmetrics(accept: &str) -> bool {
    accept.split(',').any(|part| {
        let mut params = part.split(';').map(str::trim);
        let media = params.next().unwrap_or("");
        let refused = params.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.parse::<f64>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        media.eq_ignore_ascii_case("application/openmetrics-text") && !refused
    })
}

/// Reads the series observe's recorder holds: `render()` is the
/// `/metrics` body.
#[derive(Clone, Debug)]
pub struct PrometheusHandle {
    registry: Arc<Registry>,
}

impl PrometheusHandle {
    fn text(&self, format: Format) -> String {
        self.registry.promote_exemplars();
        let descriptions = self
            .registry
            .descriptions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        render::render(&self.registry.families(), &descriptions, format)
    }

    /// The classic Prometheus text format (no exemplars).
    pub fn render(&self) -> String {
        self.text(Format::Prometheus)
    }

    /// The OpenMetrics text format, with exemplars, ending in `# EOF`.
    pub fn render_openmetrics(&self) -> String {
        self.text(Format::OpenMetrics)
    }

    /// The body and its content type for a request's `Accept` header.
    pub fn render_for(&self, accept: Option<&str>) -> (&'static str, String) {
        if accept.is_some_and(wants_openmetrics) {
            (OPENMETRICS_CONTENT_TYPE, self.render_openmetrics())
        } else {
            (PROMETHEUS_CONTENT_TYPE, self.render())
        }
    }

    /// Promotes the exemplars whose traces are now known to be kept (the
    /// upkeep thread does this every 250 ms, and each render).
    pub fn run_upkeep(&self) {
        self.registry.promote_exemplars();
    }

    pub(crate) fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }
}

/// A recorder that is not installed, and its handle: for tests that use
/// `metrics::with_local_recorder`. Its exemplars are never promoted.
pub fn local_recorder(
    config: MetricsConfig,
) -> (
    impl metrics::Recorder + Send + Sync + 'static,
    PrometheusHandle,
) {
    let registry = Arc::new(Registry::new(config));
    (
        ObserveRecorder(registry.clone()),
        PrometheusHandle { registry },
    )
}

/// Installs the global recorder, the upkeep thread and, with `listen`,
/// the listener; returns the render handle.
pub(crate) fn install(
    config: MetricsConfig,
    listen: Option<SocketAddr>,
    kept: Arc<dyn Fn(&Exemplar) -> bool + Send + Sync>,
) -> Result<PrometheusHandle, String> {
    let registry = Arc::new(Registry::new(config));
    registry.set_kept(kept);
    metrics::set_global_recorder(ObserveRecorder(registry.clone())).map_err(|_| {
        "another metrics recorder is already installed; observe's recorder was not".to_owned()
    })?;
    let handle = PrometheusHandle { registry };
    metrics::describe_histogram!(
        HTTP_SERVER_REQUEST_DURATION_SECONDS,
        metrics::Unit::Seconds,
        "Duration of HTTP server requests, by method, route template and status code."
    );
    metrics::describe_histogram!(
        CALL_DURATION_SECONDS,
        metrics::Unit::Seconds,
        "Call latency in seconds, by flow, function, module and outcome."
    );
    metrics::describe_counter!(
        METRIC_OVERFLOW_TOTAL,
        "Updates folded into a metric's overflow series by the cardinality guard, by metric and the label with the most distinct values."
    );
    let upkeep = handle.clone();
    let _ = std::thread::Builder::new()
        .name("observe-metrics-upkeep".into())
        .spawn(move || {
            for tick in 0u64.. {
                series::tick_clock();
                if tick % 5 == 0 {
                    upkeep.run_upkeep();
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
    if let Some(addr) = listen {
        listener::serve(addr, handle.clone())?;
    }
    Ok(handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render_with(config: MetricsConfig, record: impl FnOnce()) -> PrometheusHandle {
        let (recorder, handle) = local_recorder(config);
        metrics::with_local_recorder(&recorder, record);
        handle
    }

    #[test]
    fn durations_render_as_histograms_with_the_slo_boundaries() {
        let handle = render_with(MetricsConfig::default(), || {
            metrics::histogram!(CALL_DURATION_SECONDS, "flow" => "checkout").record(0.2);
            metrics::histogram!(HTTP_SERVER_REQUEST_DURATION_SECONDS, "http_route" => "/a")
                .record(0.01);
        });
        let text = handle.render();
        assert!(
            text.contains("# TYPE flow_call_duration_seconds histogram"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE http_server_request_duration_seconds histogram"),
            "{text}"
        );
        for le in [
            "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.3", "0.5", "1", "2.5", "5", "10",
        ] {
            assert!(
                text.contains(&format!(
                    "flow_call_duration_seconds_bucket{{flow=\"checkout\",le=\"{le}\"}}"
                )),
                "{le}: {text}"
            );
        }
        assert!(
            text.contains("flow_call_duration_seconds_bucket{flow=\"checkout\",le=\"0.25\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("flow_call_duration_seconds_count{flow=\"checkout\"} 1\n"),
            "{text}"
        );
    }

    /// The program's own metrics are redacted as every other output: a
    /// secret-named label's value and a secret inside any label value or
    /// description never reach the exposition, and label sets that differ
    /// only in what was masked are one series.
    #[test]
    fn label_values_and_descriptions_are_redacted() {
        let handle = render_with(MetricsConfig::default(), || {
            for key in ["MetricLabelKey1", "MetricLabelKey2"] {
                metrics::counter!("upstream_calls_total", "api_key" => key, "upstream" => "postgres://app:MetricLabelPw@db")
                    .increment(1);
            }
            metrics::describe_counter!("upstream_calls_total", "Calls, token=DescriptionTok9");
            // A name or a label key built at run time.
            let token = "ghp_MetricNameTok0123456789abcdefghijklmn";
            metrics::counter!(format!("tok_{token}")).increment(1);
            metrics::counter!("by_key_total", format!("k_{token}") => "v").increment(1);
        });
        let text = handle.render();
        for secret in [
            "MetricLabelKey",
            "MetricLabelPw",
            "DescriptionTok9",
            "MetricNameTok",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(
            text.contains(
                "upstream_calls_total{api_key=\"[REDACTED]\",upstream=\"postgres://app:[REDACTED]@db\"} 2\n"
            ),
            "{text}"
        );
        assert_eq!(text.matches("upstream_calls_total{").count(), 1, "{text}");
    }

    #[test]
    fn every_histogram_has_buckets_default_or_configured() {
        let mut config = MetricsConfig::default();
        config
            .buckets
            .insert("basket_items".into(), vec![1.0, 2.0, 5.0]);
        let handle = render_with(config, || {
            metrics::histogram!("order_amount").record(42.0);
            metrics::histogram!("basket_items").record(3.0);
        });
        let text = handle.render();
        assert!(text.contains("# TYPE order_amount histogram\n"), "{text}");
        assert!(
            text.contains("order_amount_bucket{le=\"25\"} 0\norder_amount_bucket{le=\"50\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "order_amount_bucket{le=\"10000\"} 1\norder_amount_bucket{le=\"+Inf\"} 1\n"
            ),
            "{text}"
        );
        assert!(text.contains("basket_items_bucket{le=\"2\"} 0\nbasket_items_bucket{le=\"5\"} 1\nbasket_items_bucket{le=\"+Inf\"} 1\n"), "{text}");
    }

    #[test]
    fn openmetrics_names_counter_families_without_total_and_ends_with_eof() {
        let handle = render_with(MetricsConfig::default(), || {
            metrics::counter!("orders_total", "shop" => "a").increment(3);
            metrics::counter!("legacy_hits").increment(1);
            metrics::gauge!("queue_depth").set(2.5);
        });
        let text = handle.render_openmetrics();
        assert!(
            text.contains("# TYPE orders counter\norders_total{shop=\"a\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE legacy_hits unknown\nlegacy_hits 1\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE queue_depth gauge\nqueue_depth 2.5\n"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
        let classic = handle.render();
        assert!(
            classic.contains("# TYPE orders_total counter\norders_total{shop=\"a\"} 3\n"),
            "{classic}"
        );
        assert!(!classic.contains("EOF"), "{classic}");
    }

    #[test]
    fn the_guard_folds_beyond_the_cap_but_never_observes_own_series() {
        let mut config = MetricsConfig {
            cardinality_limit: 3,
            ..MetricsConfig::default()
        };
        config.cardinality_limits.insert("pinned_total".into(), 2);
        let handle = render_with(config, || {
            for user in 0..10 {
                let user = user.to_string();
                metrics::counter!("orders_total", "user" => user.clone(), "shop" => "a")
                    .increment(2);
                metrics::counter!("pinned_total", "user" => user.clone()).increment(1);
                metrics::counter!(observe_runtime::metric_names::CALLS_TOTAL, "function" => user)
                    .increment(1);
            }
        });
        let text = handle.render();
        // Two real series and the overflow one: the cap of 3.
        assert!(text.contains("orders_total{user=\"0\",shop=\"a\"} 2\norders_total{user=\"1\",shop=\"a\"} 2\norders_total{otel_metric_overflow=\"true\"} 16\n"), "{text}");
        assert!(
            text.contains(
                "pinned_total{user=\"0\"} 1\npinned_total{otel_metric_overflow=\"true\"} 9\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "observe_metric_overflow_total{metric=\"orders_total\",label=\"user\"} 8\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "observe_metric_overflow_total{metric=\"pinned_total\",label=\"user\"} 9\n"
            ),
            "{text}"
        );
        for f in 0..10 {
            assert!(
                text.contains(&format!("flow_calls_total{{function=\"{f}\"}} 1\n")),
                "{text}"
            );
        }
    }

    #[test]
    fn accept_negotiation() {
        assert!(wants_openmetrics(
            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
        ));
        assert!(!wants_openmetrics("text/plain;version=0.0.4"));
        assert!(!wants_openmetrics("*/*"));
    }
}
