//! The export decision of spans follows the logs': with a head sampler
//! that samples nothing, a trace whose local part has an error or a slow
//! span still reaches a real OTLP receiver whole (all its local spans); a
//! successful trace does not. `OTEL_LOGS_EXPORTER=none` keeps log records
//! from the same endpoint.

#[path = "../../tests/support/otlp.rs"]
mod otlp;

use std::collections::HashMap;

use observe_telemetry::{LogWriter, OtlpProtocol, SamplerConfig, Telemetry};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One request with one child span; `outcome` says what the child does.
fn request(outcome: &str) -> String {
    let root = tracing::info_span!("request", outcome);
    let _entered = root.enter();
    let child = tracing::info_span!("charge", otel.status_code = tracing::field::Empty);
    child.in_scope(|| match outcome {
        "error" => {
            child.record("otel.status_code", "ERROR");
            tracing::error!("declined");
        }
        "slow" => tracing::warn!(slow = true, "slow call"),
        _ => tracing::info!("call completed"),
    });
    format!("{:032x}", observe_telemetry::trace_id_of(&root).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_and_slow_traces_are_exported_whole() {
    // SAFETY: set before `init` reads them.
    unsafe {
        std::env::remove_var("OTEL_TRACES_SAMPLER");
        std::env::remove_var("OTEL_EXPORTER_OTLP_ENDPOINT");
        std::env::set_var("OTEL_LOGS_EXPORTER", "none");
    }
    let receiver = otlp::Receiver::default();
    let endpoint = receiver.serve().await;
    let (writer, _logs) = LogWriter::memory();
    let telemetry = Telemetry::builder()
        .log_writer(writer)
        .otlp_endpoint(endpoint)
        .otlp_protocol(OtlpProtocol::Grpc)
        .traces_sampler(SamplerConfig::TraceIdRatio(0.0))
        .try_init()
        .expect("init");

    let failed = request("error");
    let fine = request("ok");
    let slow = request("slow");
    let telemetry = tokio::task::spawn_blocking(move || {
        telemetry.force_flush();
        telemetry
    })
    .await
    .unwrap();

    let mut by_trace: HashMap<String, Vec<String>> = HashMap::new();
    for request in receiver.traces.lock().unwrap().iter() {
        for span in request
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
        {
            by_trace
                .entry(hex(&span.trace_id))
                .or_default()
                .push(span.name.clone());
        }
    }
    for trace in [&failed, &slow] {
        let mut names = by_trace.get(trace.as_str()).cloned().unwrap_or_default();
        names.sort();
        assert_eq!(names, ["charge", "request"], "{by_trace:?}");
    }
    assert!(!by_trace.contains_key(fine.as_str()), "{by_trace:?}");
    assert!(
        receiver.logs.lock().unwrap().is_empty(),
        "OTEL_LOGS_EXPORTER=none: no log records"
    );
    drop(telemetry);
}
