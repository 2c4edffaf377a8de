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

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use observe::{FlightRecorderConfig, LogWriter, Telemetry};
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

fn find(binary: &str) -> PathBuf {
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).map(|dir| dir.join(binary)).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/bin").join(binary)])
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{binary}` is not installed, so the real-Prometheus exemplar test cannot run. \
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
    let dir = std::env::temp_dir().join(format!(
        "observe-prometheus-exemplars-{}",
        std::process::id()
    ));
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
        .arg("--enable-feature=exemplar-storage")
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

fn check_alive(prometheus: &mut Prometheus) {
    if let Ok(Some(status)) = prometheus.child.try_wait() {
        let log =
            std::fs::read_to_string(prometheus.dir.join("prometheus.log")).unwrap_or_default();
        panic!("prometheus exited ({status}):\n{log}");
    }
}

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
    let prometheus_binary = find("prometheus");
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
        let mut prometheus = start_prometheus(&prometheus_binary, &services.shop.to_string());
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
            check_alive(&mut prometheus);
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
