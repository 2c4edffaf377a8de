//! OTLP metrics to a real receiver on loopback (opentelemetry-proto's
//! generated gRPC metrics and trace services): `flow_calls_total` equals
//! the calls made, the duration histogram's bucket counts add up to them
//! with observe's bounds, the resource is the traces' resource, the
//! guard's overflow series carries `otel.metric.overflow = true`, and the
//! exemplars carry the trace and span ids of exported spans.

#[path = "support/otlp.rs"]
mod otlp;

use std::collections::HashSet;
use std::time::Duration;

use observe::{LogWriter, OtlpProtocol, Telemetry, observe};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::metrics::v1::{Metric, metric, number_data_point};

const CALLS: u64 = 25;

fn attribute(attributes: &[KeyValue], key: &str) -> Option<AnyValue> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.clone())
        .and_then(|v| v.value)
}

fn text(attributes: &[KeyValue], key: &str) -> Option<String> {
    match attribute(attributes, key) {
        Some(AnyValue::StringValue(s)) => Some(s),
        _ => None,
    }
}

#[observe(flow = "otlp_metrics")]
fn work(i: u64) -> u64 {
    i + 1
}

fn metric<'a>(request: &'a ExportMetricsServiceRequest, name: &str) -> Option<&'a Metric> {
    request
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .find(|m| m.name == name)
}

#[test]
fn metrics_reach_a_real_otlp_receiver() {
    // SAFETY: set before any other thread exists.
    unsafe {
        std::env::set_var("OTEL_SERVICE_NAME", "metrics-otlp-test");
        std::env::remove_var("OTEL_EXPORTER_OTLP_ENDPOINT");
        std::env::remove_var("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
        std::env::remove_var("OTEL_EXPORTER_OTLP_PROTOCOL");
        std::env::remove_var("OTEL_METRICS_EXPORTER");
        std::env::remove_var("OTEL_METRIC_EXPORT_INTERVAL");
        std::env::remove_var("OTEL_TRACES_SAMPLER");
    }
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let receiver = otlp::Receiver::default();
    let endpoint = server_runtime.block_on(receiver.serve());

    let telemetry = Telemetry::builder()
        .log_writer(LogWriter::new(std::io::sink()))
        .otlp_endpoint(endpoint)
        .otlp_protocol(OtlpProtocol::Grpc)
        .metrics_export_interval(Duration::from_millis(200))
        .metric_cardinality_limit_for("legacy_total", 2)
        .try_init()
        .expect("init");
    for i in 0..CALLS {
        assert_eq!(work(i), i + 1);
    }
    for user in 0..5 {
        metrics::counter!("legacy_total", "user" => user.to_string()).increment(1);
    }
    telemetry.force_flush();

    let requests = receiver.metrics.lock().unwrap().clone();
    let last = requests
        .iter()
        .rev()
        .find(|r| metric(r, "flow_calls_total").is_some())
        .expect("flow_calls_total was pushed");
    let resource = last.resource_metrics[0]
        .resource
        .as_ref()
        .expect("a resource");
    assert_eq!(
        text(&resource.attributes, "service.name").as_deref(),
        Some("metrics-otlp-test")
    );

    let Some(metric::Data::Sum(calls)) = metric(last, "flow_calls_total").unwrap().data.clone()
    else {
        panic!("flow_calls_total is not a sum");
    };
    assert!(calls.is_monotonic);
    let ours: Vec<_> = calls
        .data_points
        .iter()
        .filter(|p| text(&p.attributes, "flow").as_deref() == Some("otlp_metrics"))
        .collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(
        text(&ours[0].attributes, "function").as_deref(),
        Some("work")
    );
    assert_eq!(text(&ours[0].attributes, "outcome").as_deref(), Some("ok"));
    assert_eq!(
        ours[0].value,
        Some(number_data_point::Value::AsInt(CALLS as i64))
    );

    let Some(metric::Data::Histogram(durations)) = metric(last, "flow_call_duration_seconds")
        .unwrap()
        .data
        .clone()
    else {
        panic!("flow_call_duration_seconds is not a histogram");
    };
    let point = durations
        .data_points
        .iter()
        .find(|p| text(&p.attributes, "flow").as_deref() == Some("otlp_metrics"))
        .expect("a duration point");
    assert_eq!(point.count, CALLS);
    assert_eq!(point.bucket_counts.iter().sum::<u64>(), CALLS);
    assert_eq!(point.explicit_bounds, observe_telemetry_bounds());
    assert_eq!(point.bucket_counts.len(), point.explicit_bounds.len() + 1);

    let Some(metric::Data::Sum(legacy)) = metric(last, "legacy_total").unwrap().data.clone() else {
        panic!("legacy_total is not a sum");
    };
    let overflow = legacy
        .data_points
        .iter()
        .find(|p| {
            attribute(&p.attributes, "otel.metric.overflow") == Some(AnyValue::BoolValue(true))
        })
        .expect("an overflow point");
    assert_eq!(overflow.attributes.len(), 1);
    assert_eq!(overflow.value, Some(number_data_point::Value::AsInt(4)));

    // Exemplars: trace and span ids of the exported `work` spans.
    let spans: HashSet<(Vec<u8>, Vec<u8>)> = receiver
        .traces
        .lock()
        .unwrap()
        .iter()
        .flat_map(|r| &r.resource_spans)
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .filter(|s| s.name == "work")
        .map(|s| (s.trace_id.clone(), s.span_id.clone()))
        .collect();
    assert_eq!(spans.len(), CALLS as usize);
    let exemplars: Vec<_> = requests
        .iter()
        .filter_map(|r| metric(r, "flow_call_duration_seconds"))
        .filter_map(|m| match &m.data {
            Some(metric::Data::Histogram(h)) => Some(h.data_points.clone()),
            _ => None,
        })
        .flatten()
        .filter(|p| text(&p.attributes, "flow").as_deref() == Some("otlp_metrics"))
        .flat_map(|p| p.exemplars)
        .collect();
    assert!(!exemplars.is_empty(), "no exemplars were pushed");
    for exemplar in &exemplars {
        assert!(
            spans.contains(&(exemplar.trace_id.clone(), exemplar.span_id.clone())),
            "{exemplar:?} is not an exported work span"
        );
    }
}

fn observe_telemetry_bounds() -> Vec<f64> {
    vec![
        0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    ]
}
