//! `OBSERVE_LOG_FORMAT=pretty`, `OBSERVE_METRICS_ADDR`, `RUST_LOG` and
//! `OTEL_TRACES_SAMPLER=always_off` read from the environment.

use std::io::{Read, Write};

use observe_telemetry::{LogWriter, Telemetry};

fn get(addr: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).expect("the metrics listener accepts");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn environment_variables_are_honoured() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    // SAFETY: set before any other thread exists.
    unsafe {
        std::env::set_var("OBSERVE_LOG_FORMAT", "pretty");
        std::env::set_var("OBSERVE_METRICS_ADDR", &addr);
        std::env::set_var("RUST_LOG", "warn,env_pretty_listener=debug");
        std::env::set_var("OTEL_TRACES_SAMPLER", "always_off");
        std::env::set_var("OTEL_SERVICE_NAME", "from-env");
    }
    let (log_writer, logs) = LogWriter::memory();
    let guard = Telemetry::builder()
        .service_name("from-builder")
        .log_writer(log_writer)
        .colour(false)
        .try_init()
        .unwrap();
    assert_eq!(guard.service_name(), Some("from-env"));

    let span = tracing::info_span!("work", password = "hunter2");
    span.in_scope(|| {
        tracing::debug!(order = 7, "debug from this crate is shown");
        tracing::error!(
            otel.status_code = "ERROR",
            "it failed with Bearer abcdefghijklmnop"
        );
    });
    drop(span);
    tracing::info!(target: "other_crate", "filtered out by RUST_LOG");

    let text = logs.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines
            .iter()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_err()),
        "pretty, not JSON: {text}"
    );
    assert!(
        lines[0].contains("DEBUG")
            && lines[0].contains("debug from this crate is shown")
            && lines[0].contains("order=7")
    );
    assert!(
        lines[1].contains("service=from-env") && lines[1].contains("trace_id="),
        "{}",
        lines[1]
    );
    assert!(
        !text.contains("hunter2") && !text.contains("abcdefghijklmnop"),
        "{text}"
    );
    assert!(!text.contains('\x1b'));

    // always_off: nothing would be exported, but the flight recorder saw it.
    let recorder = guard.flight_recorder().unwrap();
    recorder.settle_all();
    assert_eq!(recorder.failing(10).len(), 1);

    // The metrics listener serves the Prometheus text, with buckets.
    metrics::histogram!("flow_call_duration_seconds", "flow" => "env").record(0.2);
    let response = get(&addr, "/metrics");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains(r#"flow_call_duration_seconds_bucket{flow="env",le="0.3"} 1"#),
        "{response}"
    );
}
