//! OTLP metrics over http/protobuf, configured from the environment: the
//! shared `OTEL_EXPORTER_OTLP_ENDPOINT` gets `/v1/metrics`,
//! `OTEL_METRIC_EXPORT_INTERVAL` and
//! `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta` are honoured,
//! and a real HTTP receiver on loopback decodes what it is sent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use observe_telemetry::{LogWriter, Telemetry};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{AggregationTemporality, metric, number_data_point};
use prost::Message as _;

/// Each request: its path, content type and body.
type Received = Arc<Mutex<Vec<(String, String, Vec<u8>)>>>;

fn serve(listener: TcpListener, received: Received) {
    for stream in listener.incoming().flatten() {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).is_err() {
            continue;
        }
        let (mut length, mut content_type) = (0usize, String::new());
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            let (name, value) = line.split_once(':').unwrap_or(("", ""));
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "content-type" => content_type = value.trim().to_owned(),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        let _ = reader.read_exact(&mut body);
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .to_owned();
        received.lock().unwrap().push((path, content_type, body));
        let mut stream = stream;
        let _ =
            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
}

fn sum_of(request: &ExportMetricsServiceRequest, name: &str) -> Option<(i64, i32)> {
    let metric = request
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .find(|m| m.name == name)?;
    match &metric.data {
        Some(metric::Data::Sum(sum)) => match sum.data_points.first()?.value {
            Some(number_data_point::Value::AsInt(v)) => Some((v, sum.aggregation_temporality)),
            _ => None,
        },
        _ => None,
    }
}

#[test]
fn delta_sums_over_http_protobuf() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    // SAFETY: set before any other thread exists.
    unsafe {
        std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint);
        std::env::set_var("OTEL_METRIC_EXPORT_INTERVAL", "3600000");
        std::env::set_var("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta");
        std::env::remove_var("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
        std::env::remove_var("OTEL_EXPORTER_OTLP_PROTOCOL");
        std::env::remove_var("OTEL_METRICS_EXPORTER");
    }
    let received = Received::default();
    let server = received.clone();
    std::thread::spawn(move || serve(listener, server));

    let telemetry = Telemetry::builder()
        .service_name("otlp-http-metrics")
        .log_writer(LogWriter::new(std::io::sink()))
        .try_init()
        .expect("init");
    metrics::counter!("orders_total").increment(3);
    telemetry.force_flush();
    metrics::counter!("orders_total").increment(2);
    telemetry.force_flush();

    let metrics: Vec<ExportMetricsServiceRequest> = received
        .lock()
        .unwrap()
        .iter()
        .filter(|(path, _, _)| path == "/v1/metrics")
        .map(|(_, content_type, body)| {
            assert_eq!(content_type, "application/x-protobuf");
            ExportMetricsServiceRequest::decode(body.as_slice()).expect("a protobuf request")
        })
        .collect();
    // The interval is an hour: these are the two flushes.
    let sums: Vec<(i64, i32)> = metrics
        .iter()
        .filter_map(|r| sum_of(r, "orders_total"))
        .collect();
    let delta = AggregationTemporality::Delta as i32;
    assert_eq!(sums, [(3, delta), (2, delta)]);
}
