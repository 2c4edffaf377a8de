//! Exemplars end to end with a real Prometheus (Debian's package, started
//! with `--enable-feature=exemplar-storage` on a loopback port and stopped
//! by its PID): it scrapes the demo's shop service in the OpenMetrics
//! text, reports the target healthy with no scrape error, and
//! `/api/v1/query_exemplars` for `flow_call_duration_seconds_bucket{flow="checkout"}`
//! returns exemplars whose `trace_id` the shop's `/debug/traces?trace_id=`
//! returns as a trace whose `checkout` span is the exemplar's `span_id`.
//! The classic text passes `promtool check metrics`. Without the binaries
//! this test fails and says why: it never skips.

#[allow(dead_code)]
#[path = "../examples/checkout/app.rs"]
mod app;
#[path = "support/prometheus.rs"]
mod prometheus;

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use observe::{FlightRecorderConfig, LogWriter, Telemetry};
use prometheus::{Prometheus, encode, find};
use serde_json::Value;

async fn json(url: &str) -> Option<Value> {
    serde_json::from_str(&app::fetch_text(url).await.ok()?).ok()
}

/// The exemplars Prometheus stored for the checkout latency buckets.
async fn exemplars(prometheus: &Prometheus) -> Vec<(Value, Value)> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let url = format!(
        "{}/api/v1/query_exemplars?query={}&start={}&end={}",
        prometheus.url,
        encode(r#"flow_call_duration_seconds_bucket{flow="checkout"}"#),
        now - 600,
        now + 60
    );
    let Some(body) = json(&url).await else {
        return Vec::new();
    };
    body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|series| {
            series["exemplars"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| (series["seriesLabels"].clone(), e.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn prometheus_stores_exemplars_that_lead_to_the_trace() {
    let promtool = find("promtool");
    let _telemetry = Telemetry::builder()
        .log_writer(LogWriter::new(std::io::sink()))
        // Every trace kept, so every exemplar can be promoted and resolved.
        .flight_recorder(FlightRecorderConfig {
            sample_rate: 1.0,
            ..FlightRecorderConfig::default()
        })
        .try_init()
        .expect("init");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let services = app::start(
            "127.0.0.1:0".parse().unwrap(),
            "127.0.0.1:0".parse().unwrap(),
            app::Faults::default(),
        )
        .await
        .unwrap();
        let shop = services.shop_url();
        // `/debug/traces` is served by the admin router, on a listener of
        // its own, as the demo mounts it.
        let admin_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let admin = format!("http://{}", admin_listener.local_addr().unwrap());
        tokio::spawn(
            async move { axum::serve(admin_listener, observe::http::admin_routes()).await },
        );
        let mut prometheus = Prometheus::start(
            &services.shop.to_string(),
            &["--enable-feature=exemplar-storage"],
        );
        let load = app::run_load(&shop, Duration::from_secs(3), 20).await;
        assert!(load.sent > 0);

        // The classic text (no Accept header) passes promtool.
        let classic = app::fetch_text(&format!("{shop}/metrics")).await.unwrap();
        assert!(
            !classic.contains("# EOF") && !classic.contains("trace_id="),
            "{classic}"
        );
        let mut check = Command::new(&promtool)
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        check
            .stdin
            .take()
            .unwrap()
            .write_all(classic.as_bytes())
            .unwrap();
        let output = check.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "promtool check metrics: {}{}\n{classic}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );

        let deadline = Instant::now() + Duration::from_secs(90);
        let mut found = Vec::new();
        while Instant::now() < deadline {
            prometheus.check_alive();
            found = exemplars(&prometheus).await;
            if !found.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        assert!(
            !found.is_empty(),
            "no exemplars stored for the checkout buckets"
        );

        for (series, exemplar) in &found {
            assert_eq!(series["flow"], "checkout", "{series}");
            assert_eq!(
                series["__name__"], "flow_call_duration_seconds_bucket",
                "{series}"
            );
            let trace_id = exemplar["labels"]["trace_id"]
                .as_str()
                .expect("a trace_id label");
            let span_id = exemplar["labels"]["span_id"]
                .as_str()
                .expect("a span_id label");
            assert_eq!(trace_id.len(), 32, "{exemplar}");
            let value: f64 = exemplar["value"].as_str().unwrap().parse().unwrap();
            let le = series["le"].as_str().unwrap();
            if le != "+Inf" {
                assert!(value <= le.parse::<f64>().unwrap(), "{value} in le={le}");
            }
            let trace = json(&format!("{admin}/debug/traces?trace_id={trace_id}"))
                .await
                .unwrap_or_else(|| {
                    panic!("/debug/traces?trace_id={trace_id} did not answer a trace")
                });
            assert_eq!(trace["trace_id"], trace_id, "{trace}");
            let checkout = trace["spans"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["name"] == "checkout")
                .unwrap_or_else(|| panic!("no checkout span in {trace}"));
            assert_eq!(checkout["span_id"], span_id, "{trace}");
        }

        // Prometheus read the OpenMetrics text without a scrape error.
        let targets = json(&format!("{}/api/v1/targets", prometheus.url))
            .await
            .unwrap();
        let target = &targets["data"]["activeTargets"][0];
        assert_eq!(target["health"], "up", "{target}");
        assert_eq!(target["lastError"], "", "{target}");
    });
}
