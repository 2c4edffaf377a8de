//! `OTEL_METRICS_EXPORTER=none` turns the OTLP metrics push off even with
//! an endpoint set; the traces still go to that endpoint.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use observe_telemetry::{LogWriter, Telemetry};

#[test]
fn no_metrics_are_pushed_with_exporter_none() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    // SAFETY: set before any other thread exists.
    unsafe {
        std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint);
        std::env::set_var("OTEL_METRICS_EXPORTER", "none");
        std::env::remove_var("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
        std::env::remove_var("OTEL_EXPORTER_OTLP_PROTOCOL");
        std::env::remove_var("OTEL_TRACES_SAMPLER");
    }
    let paths: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = paths.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let _ = reader.read_exact(&mut vec![0; length]);
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .to_owned();
            seen.lock().unwrap().push(path);
            let mut stream = stream;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });

    let telemetry = Telemetry::builder()
        .log_writer(LogWriter::new(std::io::sink()))
        .try_init()
        .expect("init");
    metrics::counter!("orders_total").increment(1);
    tracing::info_span!("work").in_scope(|| tracing::info!("done"));
    telemetry.force_flush();
    // Traces and logs follow the general endpoint; metrics are off.
    let seen = paths.lock().unwrap().clone();
    assert!(seen.iter().any(|p| p == "/v1/traces"), "{seen:?}");
    assert!(!seen.iter().any(|p| p == "/v1/metrics"), "{seen:?}");
    // Scraping still works.
    assert!(
        telemetry
            .metrics_handle()
            .unwrap()
            .render()
            .contains("orders_total 1\n")
    );
}
