//! `OBSERVE_LOG_STDOUT=false` with `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`: the
//! lines go to the OTLP logs receiver only, and the signal-specific
//! endpoint is used for logs while traces have none.

#[path = "../../tests/support/otlp.rs"]
mod otlp;

use observe_telemetry::{LogWriter, OtlpProtocol, Telemetry};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdout_off_and_a_logs_only_endpoint() {
    let receiver = otlp::Receiver::default();
    let endpoint = receiver.serve().await;
    // SAFETY: set before `init` reads them; nothing else reads them.
    unsafe {
        std::env::remove_var("OTEL_EXPORTER_OTLP_ENDPOINT");
        std::env::remove_var("OTEL_LOGS_EXPORTER");
        std::env::set_var("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", &endpoint);
        std::env::set_var("OBSERVE_LOG_STDOUT", "false");
    }
    let (writer, logs) = LogWriter::memory();
    let telemetry = Telemetry::builder()
        .log_filter("info")
        .log_writer(writer)
        .otlp_protocol(OtlpProtocol::Grpc)
        .try_init()
        .expect("init");
    tracing::info!(order_id = 7u64, "order placed");
    let telemetry = tokio::task::spawn_blocking(move || {
        telemetry.force_flush();
        telemetry
    })
    .await
    .unwrap();

    assert_eq!(logs.text(), "", "nothing written to the writer");
    let bodies: Vec<String> = receiver
        .logs
        .lock()
        .unwrap()
        .iter()
        .flat_map(|r| &r.resource_logs)
        .flat_map(|r| &r.scope_logs)
        .flat_map(|s| &s.log_records)
        .filter_map(|r| match r.body.as_ref()?.value.as_ref()? {
            AnyValue::StringValue(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(bodies, ["order placed"]);
    drop(telemetry);
}
