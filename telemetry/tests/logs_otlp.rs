//! A real OTLP receiver on loopback (opentelemetry-proto's generated gRPC
//! logs and trace services) gets a request's log records with the trace id
//! of its exported spans, their severity, body and attributes, the service
//! resource, and no secret: the records are the redacted lines.

#[path = "../../tests/support/otlp.rs"]
mod otlp;

use observe_telemetry::{LogWriter, OtlpProtocol, Telemetry};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;

fn text(attributes: &[KeyValue], key: &str) -> Option<String> {
    let value = attributes.iter().find(|kv| kv.key == key)?.value.as_ref()?;
    match value.value.as_ref()? {
        AnyValue::StringValue(s) => Some(s.clone()),
        AnyValue::IntValue(i) => Some(i.to_string()),
        AnyValue::BoolValue(b) => Some(b.to_string()),
        AnyValue::DoubleValue(d) => Some(d.to_string()),
        other => Some(format!("{other:?}")),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const SECRET: &str = "hunter2-very-secret";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_records_reach_a_real_otlp_receiver() {
    // SAFETY: set before `init` reads them; nothing else reads them.
    unsafe {
        std::env::remove_var("OTEL_EXPORTER_OTLP_ENDPOINT");
        std::env::remove_var("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT");
        std::env::remove_var("OTEL_LOGS_EXPORTER");
        std::env::remove_var("OTEL_SERVICE_NAME");
    }
    let receiver = otlp::Receiver::default();
    let endpoint = receiver.serve().await;

    let (writer, logs) = LogWriter::memory();
    let telemetry = Telemetry::builder()
        .service_name("otlp-logs-test")
        .log_filter("info")
        .log_writer(writer)
        .otlp_endpoint(endpoint)
        .otlp_protocol(OtlpProtocol::Grpc)
        .try_init()
        .expect("init");

    let trace_id = {
        let request = tracing::info_span!("request", request_id = "req-otlp-1");
        let _entered = request.enter();
        tracing::info!(
            password = SECRET,
            order_id = 42u64,
            "charging card 4111 1111 1111 1111"
        );
        tracing::warn!(attempt = 2u64, "retrying");
        format!("{:032x}", observe_telemetry::trace_id_of(&request).unwrap())
    };
    let telemetry = tokio::task::spawn_blocking(move || {
        telemetry.force_flush();
        telemetry
    })
    .await
    .unwrap();

    let requests = receiver.logs.lock().unwrap().clone();
    let mut records = Vec::new();
    for request in &requests {
        for resource_logs in &request.resource_logs {
            let resource = resource_logs.resource.as_ref().expect("a resource");
            assert_eq!(
                text(&resource.attributes, "service.name").as_deref(),
                Some("otlp-logs-test")
            );
            for scope in &resource_logs.scope_logs {
                records.extend(scope.log_records.iter().cloned());
            }
        }
    }
    let of_trace: Vec<_> = records
        .iter()
        .filter(|r| hex(&r.trace_id) == trace_id)
        .collect();
    assert_eq!(of_trace.len(), 2, "{records:#?}");
    let body = |r: &opentelemetry_proto::tonic::logs::v1::LogRecord| match r
        .body
        .as_ref()
        .and_then(|b| b.value.as_ref())
    {
        Some(AnyValue::StringValue(s)) => s.clone(),
        other => format!("{other:?}"),
    };
    let info = of_trace
        .iter()
        .find(|r| r.severity_text == "INFO")
        .expect("the INFO record");
    assert_eq!(body(info), "charging card [REDACTED]");
    assert_eq!(info.severity_number, 9, "SEVERITY_NUMBER_INFO");
    assert_eq!(
        text(&info.attributes, "password").as_deref(),
        Some("[REDACTED]")
    );
    assert_eq!(text(&info.attributes, "order_id").as_deref(), Some("42"));
    assert_eq!(
        text(&info.attributes, "request_id").as_deref(),
        Some("req-otlp-1")
    );
    assert_eq!(info.span_id.len(), 8);
    assert!(info.time_unix_nano > 0);
    let warn = of_trace
        .iter()
        .find(|r| r.severity_text == "WARN")
        .expect("the WARN record");
    assert_eq!(body(warn), "retrying");
    assert_eq!(warn.severity_number, 13, "SEVERITY_NUMBER_WARN");

    // The exported spans carry the same trace id.
    let traces = receiver.traces.lock().unwrap().clone();
    let span_traces: Vec<String> = traces
        .iter()
        .flat_map(|t| &t.resource_spans)
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .map(|s| hex(&s.trace_id))
        .collect();
    assert!(span_traces.contains(&trace_id), "{span_traces:?}");

    // No secret anywhere in what was exported, nor on stdout.
    let everything = format!("{requests:?}");
    assert!(!everything.contains(SECRET));
    assert!(!everything.contains("4111 1111 1111 1111"));
    assert!(!logs.text().contains(SECRET));
    drop(telemetry);
}
