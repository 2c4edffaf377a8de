//! Metrics: the Prometheus exporter of the `metrics` ecosystem installed as
//! the global recorder, with real histogram buckets for the call and HTTP
//! durations, a render handle for a `/metrics` route, and optionally the
//! exporter's own listener (`OBSERVE_METRICS_ADDR`).

use std::net::SocketAddr;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use observe_runtime::metric_names::CALL_DURATION_SECONDS;

/// The HTTP server duration histogram (OpenTelemetry HTTP conventions,
/// Prometheus spelling), by `http_request_method`, `http_route` and
/// `http_response_status_code`.
pub const HTTP_SERVER_REQUEST_DURATION_SECONDS: &str =
    observe_runtime::metric_names::HTTP_SERVER_REQUEST_DURATION_SECONDS;

/// Bucket boundaries, in seconds, of every duration histogram. They
/// include the usual SLO thresholds (0.1, 0.25, 0.3, 0.5, 1) so an alert
/// rule can count the calls under a threshold exactly.
pub const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

fn builder() -> PrometheusBuilder {
    let buckets = |builder: PrometheusBuilder, matcher| {
        builder
            .set_buckets_for_metric(matcher, DURATION_BUCKETS)
            .expect("the bucket list is not empty")
    };
    let builder = buckets(
        PrometheusBuilder::new(),
        Matcher::Full(CALL_DURATION_SECONDS.to_owned()),
    );
    let builder = buckets(
        builder,
        Matcher::Full(HTTP_SERVER_REQUEST_DURATION_SECONDS.to_owned()),
    );
    // Any other `*_seconds` histogram gets the same buckets rather than
    // being rendered as a summary.
    buckets(builder, Matcher::Suffix("_seconds".to_owned()))
}

/// Installs the global recorder; returns its render handle.
pub(crate) fn install(listen: Option<SocketAddr>) -> Result<PrometheusHandle, String> {
    let handle = match listen {
        None => {
            let recorder = builder().build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).map_err(|_| already_installed())?;
            handle
        }
        Some(addr) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("metrics listener runtime: {e}"))?;
            let built = {
                let _entered = runtime.enter();
                builder().with_http_listener(addr).build()
            };
            let installed = built
                .map_err(|e| format!("metrics listener on {addr}: {e}"))
                .and_then(|(recorder, exporter)| {
                    let handle = recorder.handle();
                    metrics::set_global_recorder(recorder).map_err(|_| already_installed())?;
                    Ok((handle, exporter))
                });
            let (handle, exporter) = match installed {
                Ok(installed) => installed,
                Err(error) => {
                    // Dropping a runtime inside an async context panics; this one is idle.
                    std::mem::forget(runtime);
                    return Err(error);
                }
            };
            std::thread::Builder::new()
                .name("observe-metrics".into())
                .spawn(move || {
                    if let Err(error) = runtime.block_on(exporter) {
                        tracing::warn!(target: "observe_telemetry", error = ?error, "the metrics listener stopped");
                    }
                })
                .map_err(|e| format!("metrics listener thread: {e}"))?;
            handle
        }
    };
    metrics::describe_histogram!(
        HTTP_SERVER_REQUEST_DURATION_SECONDS,
        metrics::Unit::Seconds,
        "Duration of HTTP server requests, by method, route template and status code."
    );
    // Upkeep drains histogram buffers when nobody scrapes for a while.
    let upkeep = handle.clone();
    let _ = std::thread::Builder::new()
        .name("observe-metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(5));
                upkeep.run_upkeep();
            }
        });
    Ok(handle)
}

fn already_installed() -> String {
    "another metrics recorder is already installed; observe's Prometheus exporter was not"
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_render_as_histograms_with_the_slo_boundaries() {
        let recorder = builder().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
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
    }
}
