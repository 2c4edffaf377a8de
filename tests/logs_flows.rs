//! Knobs per flow at run time over the admin router: `PUT
//! /debug/flows/payment` with verbosity DEBUG for 2 seconds makes the next
//! calls of that flow write their DEBUG lines and not the other flows';
//! after the expiry they stop. `GET /debug/flows` lists every function with
//! its knobs and live RED. The admin routes are not on the public router.

use std::time::{Duration, Instant};

use axum::Router;
use observe::{LogBufferConfig, LogWriter, Telemetry, observe};
use serde_json::{Value, json};

#[observe(flow = "payment")]
fn authorize(cents: u64) -> Result<u64, String> {
    tracing::debug!(cents, "authorizing");
    if cents == 0 {
        Err("zero amount".into())
    } else {
        Ok(cents)
    }
}

#[observe(flow = "inventory")]
fn reserve(sku: u32) -> Result<(), String> {
    tracing::debug!(sku, "reserving");
    Ok(())
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn debug_lines(logs: &observe::CapturedLogs, function: &str) -> usize {
    logs.lines()
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["level"] == "DEBUG" && l["code.function"] == function)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verbosity_for_a_flow_for_two_seconds() {
    let (writer, logs) = LogWriter::memory();
    let _telemetry = Telemetry::builder()
        .service_name("flows-test")
        .log_filter("info")
        .log_writer(writer)
        // Only the knob may write DEBUG lines here.
        .log_buffer(LogBufferConfig::disabled())
        .try_init()
        .expect("init");
    let public = serve(observe::http::routes()).await;
    let admin = serve(observe::http::admin_routes()).await;
    let client = reqwest::Client::new();
    let get = |url: String| {
        let client = client.clone();
        async move {
            let response = client.get(url).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    };

    for path in ["/debug/flows", "/debug/traces", "/debug/flows/payment"] {
        assert_eq!(get(format!("{public}{path}")).await.0, 404, "{path}");
    }
    assert_eq!(get(format!("{public}/healthz")).await.0, 200);
    assert_eq!(get(format!("{admin}/debug/traces")).await.0, 200);

    // Before: RUST_LOG=info writes no DEBUG line.
    authorize(5).unwrap();
    reserve(1).unwrap();
    assert_eq!(debug_lines(&logs, "authorize"), 0);

    let response = client
        .put(format!("{admin}/debug/flows/payment"))
        .body(json!({"verbosity": "debug", "for": "2s"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["functions"][0]["function"], "authorize");
    assert_eq!(body["functions"][0]["knobs"]["verbosity"], "debug");
    assert_eq!(body["functions"][0]["overridden"]["verbosity"], true);

    authorize(6).unwrap();
    authorize(7).unwrap();
    reserve(2).unwrap();
    assert_eq!(debug_lines(&logs, "authorize"), 2, "{}", logs.text());
    assert_eq!(debug_lines(&logs, "reserve"), 0, "other flows stay quiet");
    let line: Value = logs
        .lines()
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|l| l["level"] == "DEBUG")
        .unwrap();
    assert_eq!(line["message"], "authorizing");
    assert_eq!(line["flow"], "payment");
    assert!(line.get("log.buffered").is_none(), "written, not buffered");

    // GET /debug/flows: every function, its knobs and its RED.
    let _ = authorize(0);
    let (status, text) = get(format!("{admin}/debug/flows")).await;
    assert_eq!(status, 200);
    let flows: Value = serde_json::from_str(&text).unwrap();
    let functions = flows["functions"].as_array().unwrap();
    let find = |name: &str| {
        functions
            .iter()
            .find(|f| f["function"] == name)
            .unwrap_or_else(|| panic!("{name} in {flows:#}"))
    };
    let payment = find("authorize");
    assert_eq!(payment["flow"], "payment");
    assert_eq!(payment["module"], "logs_flows");
    assert_eq!(payment["level"], "info");
    assert_eq!(payment["red"]["calls"], 4.0, "{payment}");
    assert_eq!(payment["red"]["error_ratio"], 0.25, "{payment}");
    assert!(payment["red"]["p50_seconds"].as_f64().unwrap() > 0.0);
    assert!(payment["red"]["p99_seconds"].as_f64().unwrap() > 0.0);
    let inventory = find("reserve");
    assert_eq!(inventory["knobs"]["verbosity"], Value::Null);
    assert_eq!(inventory["red"]["calls"], 2.0);

    // After the expiry (waited for, not timed), the DEBUG lines stop.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, text) = get(format!("{admin}/debug/flows/payment")).await;
        let body: Value = serde_json::from_str(&text).unwrap();
        if body["functions"][0]["knobs"]["verbosity"].is_null() {
            break;
        }
        assert!(Instant::now() < deadline, "the override never expired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before = debug_lines(&logs, "authorize");
    authorize(8).unwrap();
    assert_eq!(debug_lines(&logs, "authorize"), before);

    // Unknown names and bad bodies are refused.
    let status = |response: reqwest::Response| response.status().as_u16();
    let put = |path: &str, body: &str| {
        client
            .put(format!("{admin}{path}"))
            .body(body.to_owned())
            .send()
    };
    assert_eq!(
        status(
            put("/debug/flows/nope", r#"{"verbosity":"debug"}"#)
                .await
                .unwrap()
        ),
        404
    );
    assert_eq!(
        status(
            put("/debug/flows/payment", r#"{"verbosity":"loud"}"#)
                .await
                .unwrap()
        ),
        400
    );
    assert_eq!(
        status(
            put("/debug/flows/payment", r#"{"for":"soon","sample":0.5}"#)
                .await
                .unwrap()
        ),
        400
    );
}

#[test]
fn flows_api_sets_sample_and_slow_per_function() {
    // No telemetry needed: the knobs are the runtime's.
    let flows = observe::flows();
    let listed = flows.get("logs_flows::reserve");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].sample, None);
    let change = flows.set_sample("reserve", 0.25);
    assert_eq!(change.matched(), 1);
    let change = flows.set_slow("inventory", Duration::from_millis(40));
    assert_eq!(change.matched(), 1);
    let knobs = &flows.get("reserve")[0];
    assert_eq!(knobs.sample, Some(0.25));
    assert_eq!(knobs.slow, Some(Duration::from_millis(40)));
    assert!(knobs.overrides.sample.is_some() && knobs.overrides.slow.is_some());
    flows.reset("reserve");
    let knobs = &flows.get("reserve")[0];
    assert_eq!((knobs.sample, knobs.slow), (None, None));
    assert_eq!(flows.set_sample("no-such-flow", 0.5).matched(), 0);
}
