//! OTLP over HTTP/protobuf (the default protocol) to a real receiver
//! (an axum route decoding `opentelemetry-proto` messages), with
//! `OTEL_TRACES_SAMPLER=parentbased_traceidratio`: a sampled share of the
//! successful traces is exported whole (children follow their root), every
//! failed trace is exported whole whatever the sampler said, all redacted,
//! and the flight recorder keeps every failed trace.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use prost::Message;

type Received = Arc<Mutex<Vec<Span>>>;

async fn receive(State(received): State<Received>, body: Bytes) -> Vec<u8> {
    let request = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf body");
    let mut spans = received.lock().unwrap();
    for resource_spans in request.resource_spans {
        for scope_spans in resource_spans.scope_spans {
            spans.extend(scope_spans.spans);
        }
    }
    ExportTraceServiceResponse {
        partial_success: None,
    }
    .encode_to_vec()
}

#[test]
fn http_protobuf_export_with_ratio_sampling() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let received = Received::default();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/v1/traces", post(receive))
        .with_state(received.clone());
    runtime.spawn(async move { axum::serve(listener, app).await });

    // SAFETY: set before init; the runtime's threads never read them.
    unsafe {
        std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint);
        std::env::remove_var("OTEL_EXPORTER_OTLP_PROTOCOL");
        std::env::set_var("OTEL_TRACES_SAMPLER", "parentbased_traceidratio");
        std::env::set_var("OTEL_TRACES_SAMPLER_ARG", "0.5");
    }
    let telemetry = observe::Telemetry::builder()
        .log_writer(observe::LogWriter::new(std::io::sink()))
        .flight_recorder(observe::FlightRecorderConfig {
            capacity: 1000,
            ..Default::default()
        })
        .try_init()
        .expect("init");

    const TRACES: usize = 200;
    for n in 0..TRACES {
        let root = tracing::info_span!(
            "job",
            n,
            api_key = "k-123456",
            otel.status_code = tracing::field::Empty
        );
        root.in_scope(|| {
            tracing::info_span!("step", note = "Bearer abcdefghijklmnopqrstuvwxyz").in_scope(
                || {
                    tracing::info!("working");
                },
            );
        });
        if n % 2 == 0 {
            root.record("otel.status_code", "ERROR");
        }
    }
    telemetry.force_flush();

    let spans = received.lock().unwrap().clone();
    let roots: Vec<&Span> = spans.iter().filter(|s| s.name == "job").collect();
    let steps: Vec<&Span> = spans.iter().filter(|s| s.name == "step").collect();
    // Every failed trace (every second one) is exported whatever the
    // sampler said; of the others, a fair coin each (mean 50, standard
    // deviation 5: far outside these bounds means no sampling).
    let failed = roots
        .iter()
        .filter(|root| {
            root.status
                .as_ref()
                .is_some_and(|status| status.code == StatusCode::Error as i32)
        })
        .count();
    assert_eq!(failed, TRACES / 2, "every failed trace exported");
    let succeeded = roots.len() - failed;
    assert!(
        (20..=80).contains(&succeeded),
        "{succeeded} of {} successful traces exported",
        TRACES / 2
    );
    assert_eq!(
        steps.len(),
        roots.len(),
        "children follow their root's decision"
    );
    for step in &steps {
        assert!(
            roots
                .iter()
                .any(|r| r.span_id == step.parent_span_id && r.trace_id == step.trace_id)
        );
    }
    let exported = format!("{spans:?}");
    assert!(
        !exported.contains("k-123456") && !exported.contains("abcdefghijklmnop"),
        "secrets exported"
    );

    // The flight recorder saw every trace, sampled or not.
    let recorder = telemetry.flight_recorder().unwrap();
    recorder.settle_all();
    assert_eq!(recorder.failing(usize::MAX).len(), TRACES / 2);
}
