//! A real Prometheus server (Debian's `prometheus` package, installed by
//! `scripts/test.sh`) scrapes the demo's shop service; PromQL through its
//! HTTP API returns `flow_calls_total` equal to the calls the load
//! generator made, and a finite `histogram_quantile` over the buckets.
//! Without the binary this test fails and says why: it never skips.

#[allow(dead_code)]
#[path = "../examples/checkout/app.rs"]
mod app;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use observe::{LogWriter, Telemetry};
use serde_json::Value;

/// The server process, stopped by its PID when dropped.
struct Prometheus {
    child: Child,
    dir: PathBuf,
    url: String,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn find_prometheus() -> PathBuf {
    let candidates = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("prometheus"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    candidates.into_iter().chain([PathBuf::from("/usr/bin/prometheus")]).find(|p| p.is_file()).unwrap_or_else(|| {
        panic!(
            "the `prometheus` binary is not installed, so the real-Prometheus test cannot run. \
             Run the tests through `bash scripts/test.sh` (it installs Debian's `prometheus` package), \
             or `apt-get install --no-install-recommends prometheus`."
        )
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_prometheus(binary: &Path, target: &str) -> Prometheus {
    let dir = std::env::temp_dir().join(format!("observe-prometheus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: shop\n    metrics_path: /metrics\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
    let child = Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    Prometheus {
        child,
        dir,
        url: format!("http://127.0.0.1:{port}"),
    }
}

fn encode(query: &str) -> String {
    query
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The value of an instant query's single result, if it has one.
async fn query(prometheus: &Prometheus, promql: &str) -> Option<f64> {
    let url = format!("{}/api/v1/query?query={}", prometheus.url, encode(promql));
    let body = app::fetch_text(&url).await.ok()?;
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
        if let Ok(Some(status)) = prometheus.child.try_wait() {
            let log =
                std::fs::read_to_string(prometheus.dir.join("prometheus.log")).unwrap_or_default();
            panic!("prometheus exited ({status}):\n{log}");
        }
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
    let binary = find_prometheus();
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
        let mut prometheus = start_prometheus(&binary, &services.shop.to_string());
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
