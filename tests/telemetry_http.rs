//! The HTTP layer, the routes and the propagating client, against real
//! servers on loopback: request ids, trace-context continuation, the RED
//! histogram with route templates, `/healthz`, `/readyz`, `/metrics` and
//! `/debug/traces`.

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::routing::get;
use observe::{LogWriter, Telemetry};
use serde_json::Value;

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn trace_id_of(traceparent: &str) -> &str {
    traceparent
        .split('-')
        .nth(1)
        .expect("version-traceid-spanid-flags")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layer_routes_and_client() {
    let (log_writer, logs) = LogWriter::memory();
    let _telemetry = Telemetry::builder()
        .service_name("http-test")
        .log_writer(log_writer)
        .try_init()
        .expect("init");

    // Downstream echoes the headers it received.
    let downstream = serve(
        Router::new()
            .route(
                "/echo",
                get(|headers: HeaderMap| async move {
                    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                    axum::Json(serde_json::json!({"traceparent": get("traceparent"), "x-request-id": get("x-request-id")}))
                }),
            )
            .layer(observe::http::layer().service("downstream")),
    )
    .await;

    let readiness = observe::http::Readiness::new();
    let database_up = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = database_up.clone();
    readiness.add("database", move || {
        let up = flag.load(std::sync::atomic::Ordering::SeqCst);
        async move {
            if up {
                Ok(())
            } else {
                Err("connection refused")
            }
        }
    });
    readiness.add("cache", || async { Ok::<(), String>(()) });

    let downstream_url = downstream.clone();
    let upstream = serve(
        Router::new()
            .route(
                "/orders/{id}",
                get(|Path(id): Path<u64>| async move { format!("order {id}") }),
            )
            .route(
                "/call",
                get(move || {
                    let url = format!("{downstream_url}/echo");
                    async move {
                        let response = observe::http::client().get(url).send().await.unwrap();
                        response.text().await.unwrap()
                    }
                }),
            )
            .route(
                "/boom",
                get(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
            )
            .merge(observe::http::routes_with(readiness))
            .merge(observe::http::admin_routes())
            .layer(observe::http::layer().service("upstream")),
    )
    .await;
    let client = reqwest::Client::new();

    // x-request-id: generated when absent, kept when present, returned.
    let response = client
        .get(format!("{upstream}/orders/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let generated = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!generated.is_empty());
    assert!(response.headers().contains_key("traceparent"));
    let response = client
        .get(format!("{upstream}/orders/2"))
        .header("x-request-id", "req-given-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "req-given-42");

    // traceparent: the caller's trace continues, here and downstream,
    // together with the request id.
    let incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let response = client
        .get(format!("{upstream}/call"))
        .header("traceparent", incoming)
        .header("x-request-id", "req-hop-7")
        .send()
        .await
        .unwrap();
    assert_eq!(
        trace_id_of(response.headers()["traceparent"].to_str().unwrap()),
        trace_id_of(incoming)
    );
    let seen: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    let forwarded = seen["traceparent"].as_str().unwrap();
    assert_eq!(trace_id_of(forwarded), trace_id_of(incoming), "{seen}");
    assert_ne!(
        forwarded.split('-').nth(2).unwrap(),
        "b7ad6b7169203331",
        "a new parent span"
    );
    assert_eq!(seen["x-request-id"], "req-hop-7");

    // Unmatched paths and a 5xx.
    for path in ["/nope/1", "/nope/2", "/random-scan"] {
        assert_eq!(
            client
                .get(format!("{upstream}{path}"))
                .send()
                .await
                .unwrap()
                .status(),
            404
        );
    }
    assert_eq!(
        client
            .get(format!("{upstream}/boom"))
            .send()
            .await
            .unwrap()
            .status(),
        500
    );

    // /healthz and /readyz.
    assert_eq!(
        client
            .get(format!("{upstream}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let response = client
        .get(format!("{upstream}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    let failing = body["failing"].as_array().unwrap();
    assert_eq!(failing.len(), 1, "{body}");
    assert_eq!(failing[0]["check"], "database");
    assert_eq!(failing[0]["error"], "connection refused");
    database_up.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        client
            .get(format!("{upstream}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // /metrics: a real histogram, by route template, never the raw path.
    let metrics = client
        .get(format!("{upstream}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("# TYPE http_server_request_duration_seconds histogram"),
        "{metrics}"
    );
    let orders_count = metrics
        .lines()
        .find(|line| {
            line.starts_with("http_server_request_duration_seconds_count")
                && line.contains(r#"http_route="/orders/{id}""#)
                && line.contains(r#"http_request_method="GET""#)
                && line.contains(r#"http_response_status_code="200""#)
        })
        .unwrap_or_else(|| panic!("no /orders/{{id}} series:\n{metrics}"));
    assert!(orders_count.ends_with(" 2"), "{orders_count}");
    assert!(
        !metrics.contains("/orders/1")
            && !metrics.contains("/nope")
            && !metrics.contains("random-scan")
    );
    let unmatched = metrics
        .lines()
        .find(|line| {
            line.starts_with("http_server_request_duration_seconds_count")
                && line.contains(r#"http_response_status_code="404""#)
        })
        .unwrap();
    assert!(
        unmatched.contains(&format!(
            r#"http_route="{}""#,
            observe::http::UNMATCHED_ROUTE
        )) && unmatched.ends_with(" 3"),
        "{unmatched}"
    );
    for le in [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.3", "0.5", "1", "2.5", "5", "10",
    ] {
        assert!(
            metrics.contains(&format!(r#"http_response_status_code="200",le="{le}"}}"#)),
            "bucket {le} missing:\n{metrics}"
        );
    }

    // /debug/traces: the failed request is kept, as a span tree with its logs.
    let traces: Value = serde_json::from_str(
        &client
            .get(format!("{upstream}/debug/traces"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let failing = traces["failing"].as_array().unwrap();
    let boom = failing
        .iter()
        .find(|t| t["root"] == "GET /boom")
        .unwrap_or_else(|| panic!("{traces:#}"));
    assert_eq!(boom["error"], true);
    assert_eq!(boom["spans"][0]["status"], "error");
    assert!(
        boom["logs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["message"] == "request failed")
    );
    assert!(traces["slowest"].is_array());

    // Every log line of a request carries its request id and trace id.
    let text = logs.text();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let hop: Vec<&Value> = lines
        .iter()
        .filter(|l| l["trace_id"] == trace_id_of(incoming))
        .collect();
    assert!(hop.len() >= 2, "{text}");
    for line in &hop {
        assert_eq!(line["request_id"], "req-hop-7", "{line}");
    }
    assert!(
        hop.iter().any(|l| l["service"] == "upstream")
            && hop.iter().any(|l| l["service"] == "downstream")
    );
    for line in lines.iter().filter(|l| l.get("http.route").is_some()) {
        assert!(
            line["request_id"].as_str().is_some_and(|id| !id.is_empty()),
            "{line}"
        );
        assert!(
            line["trace_id"].as_str().is_some_and(|id| id.len() == 32),
            "{line}"
        );
    }
}
