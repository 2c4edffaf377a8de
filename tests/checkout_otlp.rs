//! A real OTLP receiver (opentelemetry-proto's generated gRPC server) gets
//! the spans of both demo services: one trace id across the HTTP hop,
//! parent/child links, status ERROR on the failed payment spans, the
//! resource attributes; and the captured JSON logs agree with it and hold
//! no secret sent in a request.

#[allow(dead_code)]
#[path = "../examples/checkout/app.rs"]
mod app;
#[path = "support/otlp.rs"]
mod otlp;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use observe::{LogWriter, OtlpProtocol, Telemetry};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use otlp::Receiver;
use serde_json::Value;

fn text(value: &Option<opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    match value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(AnyValue::StringValue(s)) => s.clone(),
        Some(AnyValue::IntValue(i)) => i.to_string(),
        Some(AnyValue::BoolValue(b)) => b.to_string(),
        Some(AnyValue::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn attribute(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .map(|kv| text(&kv.value))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn both_services_reach_a_real_otlp_receiver() {
    // SAFETY: set before any other thread exists (the runtime is built below).
    unsafe {
        std::env::set_var("OTEL_SERVICE_NAME", "checkout-otlp-test");
        std::env::set_var(
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment.name=ci,team=payments",
        );
        std::env::remove_var("OTEL_EXPORTER_OTLP_ENDPOINT");
        std::env::remove_var("OTEL_EXPORTER_OTLP_PROTOCOL");
        std::env::remove_var("OTEL_TRACES_SAMPLER");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let receiver = Receiver::default();
    let endpoint = receiver.serve().await;

    let (log_writer, logs) = LogWriter::memory();
    let telemetry = Telemetry::builder()
        .service_version("9.9.9")
        .log_writer(log_writer)
        .otlp_endpoint(endpoint)
        .otlp_protocol(OtlpProtocol::Grpc)
        .try_init()
        .expect("init");

    // Faults turned up so a short run surely has failed payments.
    let faults = app::Faults {
        payment_timeout: 0.15,
        payment_decline: 0.1,
        slow_inventory: 0.1,
    };
    let services = app::start(
        "127.0.0.1:0".parse().unwrap(),
        "127.0.0.1:0".parse().unwrap(),
        faults,
    )
    .await
    .unwrap();
    let load = app::run_load(&services.shop_url(), Duration::from_secs(3), 20).await;
    assert_eq!(load.transport_errors, 0);
    // Let abandoned provider calls finish on the server side.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let flush = tokio::task::spawn_blocking(move || {
        telemetry.force_flush();
        telemetry
    });
    let telemetry = flush.await.unwrap();

    let requests = receiver.traces.lock().unwrap().clone();
    assert!(!requests.is_empty(), "the receiver got nothing");
    let mut spans: Vec<Span> = Vec::new();
    for request in &requests {
        for resource_spans in &request.resource_spans {
            let resource = resource_spans.resource.as_ref().expect("a resource");
            assert_eq!(
                attribute(&resource.attributes, "service.name").as_deref(),
                Some("checkout-otlp-test")
            );
            assert_eq!(
                attribute(&resource.attributes, "service.version").as_deref(),
                Some("9.9.9")
            );
            assert_eq!(
                attribute(&resource.attributes, "deployment.environment.name").as_deref(),
                Some("ci")
            );
            assert_eq!(
                attribute(&resource.attributes, "team").as_deref(),
                Some("payments")
            );
            for scope_spans in &resource_spans.scope_spans {
                spans.extend(scope_spans.spans.iter().cloned());
            }
        }
    }
    let by_id: HashMap<Vec<u8>, &Span> = spans.iter().map(|s| (s.span_id.clone(), s)).collect();
    let service_of = |span: &Span| attribute(&span.attributes, "service");

    // Every parent link points at a received span of the same trace; the
    // roots are the shop's server spans (the load generator sends no trace).
    for span in &spans {
        if span.parent_span_id.is_empty() {
            assert_eq!(span.name, "POST /checkout", "unexpected root {span:?}");
            continue;
        }
        let parent = by_id
            .get(&span.parent_span_id)
            .unwrap_or_else(|| panic!("parent of {} missing", span.name));
        assert_eq!(
            parent.trace_id, span.trace_id,
            "{} and its parent",
            span.name
        );
    }
    assert_eq!(
        spans.iter().filter(|s| s.name == "POST /checkout").count() as u64,
        load.sent
    );

    // The HTTP hop: the provider's server span is the child of the shop's
    // client span, in the same trace, under the shop's checkout.
    let hops: Vec<&Span> = spans
        .iter()
        .filter(|s| s.name == "POST /authorize")
        .collect();
    assert!(!hops.is_empty());
    for hop in &hops {
        assert_eq!(service_of(hop).as_deref(), Some("payments"));
        let client = by_id[&hop.parent_span_id];
        assert_eq!(
            client.kind,
            opentelemetry_proto::tonic::trace::v1::span::SpanKind::Client as i32
        );
        let caller = by_id[&client.parent_span_id];
        assert_eq!(caller.name, "call_payment_provider");
        let mut root = caller;
        while !root.parent_span_id.is_empty() {
            root = by_id[&root.parent_span_id];
        }
        assert_eq!(root.name, "POST /checkout");
        assert_eq!(service_of(root).as_deref(), Some("shop"));
        assert_eq!(root.trace_id, hop.trace_id);
    }

    // Status ERROR on exactly the payment calls that failed.
    let status = |span: &Span| span.status.as_ref().map(|s| s.code).unwrap_or(0);
    let failed_calls: HashSet<String> = spans
        .iter()
        .filter(|s| s.name == "call_payment_provider" && status(s) == StatusCode::Error as i32)
        .map(|s| hex(&s.span_id))
        .collect();
    assert!(
        !failed_calls.is_empty(),
        "no failed payment span in {} spans",
        spans.len()
    );
    for span in spans
        .iter()
        .filter(|s| s.name == "authorize_payment" || s.name == "call_payment_provider")
    {
        if status(span) == StatusCode::Error as i32 {
            assert!(
                attribute(&span.attributes, "error.type").is_some(),
                "{span:?}"
            );
        }
    }

    // Nothing secret left the process through the exporter.
    let exported = format!("{spans:?}");
    for secret in [
        app::DEMO_CARD,
        "4111111111111111",
        app::DEMO_TOKEN,
        app::DEMO_PASSWORD,
    ] {
        assert!(!exported.contains(secret), "{secret} was exported");
    }

    // The captured logs.
    let text = logs.text();
    let trace_ids: HashSet<String> = spans.iter().map(|s| hex(&s.trace_id)).collect();
    let mut request_ids_by_trace: HashMap<String, HashSet<String>> = HashMap::new();
    let mut failed_call_lines = HashSet::new();
    for line in text.lines() {
        let fields: serde_json::Map<String, Value> =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        for secret in [
            app::DEMO_CARD,
            "4111111111111111",
            app::DEMO_TOKEN,
            app::DEMO_PASSWORD,
        ] {
            assert!(!line.contains(secret), "{secret} in a log line: {line}");
        }
        if fields.get("http.route").is_none() {
            continue;
        }
        let request_id = fields["request_id"]
            .as_str()
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| panic!("{line}"));
        let trace_id = fields["trace_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no trace_id: {line}"));
        assert!(
            trace_ids.contains(trace_id),
            "a trace the receiver did not get: {line}"
        );
        request_ids_by_trace
            .entry(trace_id.to_owned())
            .or_default()
            .insert(request_id.to_owned());
        if fields.get("function").and_then(Value::as_str) == Some("call_payment_provider")
            && fields.get("outcome").and_then(Value::as_str) == Some("error")
        {
            failed_call_lines.insert(fields["span_id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(
        request_ids_by_trace.len() as u64,
        load.sent,
        "one trace per checkout request"
    );
    for (trace_id, ids) in &request_ids_by_trace {
        assert_eq!(
            ids.len(),
            1,
            "trace {trace_id} spans several request ids: {ids:?}"
        );
    }
    assert_eq!(
        failed_call_lines, failed_calls,
        "the failed-call log lines are the ERROR spans"
    );
    drop(telemetry);
}
