//! A real Prometheus server (Debian's `prometheus` package, installed by
//! `scripts/test.sh`) scrapes the demo's shop service; PromQL through its
//! HTTP API returns `flow_calls_total` equal to the calls the load
//! generator made, and a finite `histogram_quantile` over the buckets.
//! Without the binary this test fails and says why: it never skips.

#[allow(dead_code)]
#[path = "../examples/checkout/app.rs"]
mod app;
#[path = "support/prometheus.rs"]
mod prometheus;

use std::time::{Duration, Instant};

use observe::{LogWriter, Telemetry};
use prometheus::Prometheus;
use serde_json::Value;

/// The value of an instant query's single result, if it has one.
async fn query(prometheus: &Prometheus, promql: &str) -> Option<f64> {
    let body = app::fetch_text(&prometheus.query_url(promql)).await.ok()?;
    let json: Value = serde_json::from_str(&body).ok()?;
    let result = json["data"]["result"].as_array()?;
    let value = result.first()?["value"][1].as_str()?;
    value.parse().ok()
}

/// Polls until `check` accepts the query's value; bounded.
async fn wait_for(
    prometheus: &mut Prometheus,
    promql: &str,
    check: impl Fn(f64) -> bool,
) -> Option<f64> {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut last = None;
    while Instant::now() < deadline {
        prometheus.check_alive();
        last = query(prometheus, promql).await;
        if last.is_some_and(&check) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    last
}

#[test]
fn prometheus_scrapes_the_demo() {
    let _telemetry = Telemetry::builder()
        .log_writer(LogWriter::new(std::io::sink()))
        .try_init()
        .expect("init");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let services =
            app::start("127.0.0.1:0".parse().unwrap(), "127.0.0.1:0".parse().unwrap(), app::Faults::default())
                .await
                .unwrap();
        let mut prometheus = Prometheus::start(&services.shop.to_string(), &[]);
        let load = app::run_load(&services.shop_url(), Duration::from_secs(3), 20).await;
        assert!(load.sent > 0);

        // One `checkout` call (the only function of the `checkout` flow) per request.
        let calls = r#"sum(flow_calls_total{flow="checkout"})"#;
        let seen = wait_for(&mut prometheus, calls, |v| v == load.sent as f64).await;
        assert_eq!(seen, Some(load.sent as f64), "{calls} after a load of {} requests", load.sent);

        let p99 = r#"histogram_quantile(0.99, sum by (le) (flow_call_duration_seconds_bucket{flow="checkout"}))"#;
        let value = wait_for(&mut prometheus, p99, f64::is_finite).await;
        assert!(value.is_some_and(|v| v.is_finite() && v > 0.0), "{p99} = {value:?}");

        // The SLO boundary the alert-rule generator relies on is a real bucket.
        let at_300ms = r#"sum(flow_call_duration_seconds_bucket{flow="checkout",le="0.3"})"#;
        let under = wait_for(&mut prometheus, at_300ms, |v| v > 0.0).await;
        assert!(under.is_some_and(|v| v <= load.sent as f64), "{at_300ms} = {under:?}");

        let http = r#"sum(http_server_request_duration_seconds_count{http_route="/checkout"})"#;
        assert_eq!(wait_for(&mut prometheus, http, |v| v == load.sent as f64).await, Some(load.sent as f64));
    });
}
