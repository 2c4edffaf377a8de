//! Every log source through observe's pipeline: a `log` record from a
//! dependency-style module inside a request is a JSON line with the
//! request's ids, redacted; a panic in a spawned task is logged once at
//! ERROR inside its span with the OpenTelemetry fields; a panic observe
//! catches while formatting a value is not logged.

use observe_telemetry::{LogWriter, Telemetry};
use serde_json::Value;
use tracing::Instrument;

/// Stands for a crate that logs through the `log` facade.
mod vendor_sdk {
    pub fn call() {
        tracing_log::log::warn!("retrying with password=hunter2 after 503");
        tracing_log::log::debug!("not written: RUST_LOG=info");
    }
}

struct Panicky;

impl std::fmt::Debug for Panicky {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        panic!("Debug of Panicky")
    }
}

fn parse(logs: &observe_telemetry::CapturedLogs) -> Vec<Value> {
    logs.lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_records_and_panics_reach_the_output() {
    // Read once by `Backtrace::capture`, before any panic.
    unsafe { std::env::set_var("RUST_BACKTRACE", "1") };
    let (writer, logs) = LogWriter::memory();
    let _telemetry = Telemetry::builder()
        .service_name("sources-test")
        .log_filter("info")
        .log_writer(writer)
        .try_init()
        .expect("init");

    // A `log` record inside a request.
    let request = tracing::info_span!("request", request_id = "req-log-1");
    let trace_id = format!("{:032x}", observe_telemetry::trace_id_of(&request).unwrap());
    request.in_scope(vendor_sdk::call);
    let lines = parse(&logs);
    let warn: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"] == "logs_sources::vendor_sdk")
        .collect();
    assert_eq!(warn.len(), 1, "{lines:#?}");
    let warn = warn[0];
    assert_eq!(warn["level"], "WARN");
    assert_eq!(warn["trace_id"], trace_id.as_str());
    assert_eq!(warn["request_id"], "req-log-1");
    assert_eq!(warn["service"], "sources-test");
    assert_eq!(
        warn["message"], "retrying with password=[REDACTED] after 503",
        "{warn}"
    );
    assert!(
        warn.get("log.target").is_none(),
        "the bridge's fields are folded in"
    );
    assert!(!logs.text().contains("hunter2"));
    assert!(!logs.text().contains("not written"));
    // A `log` record's target is text a program built at run time: scrubbed.
    let target = String::from("db::postgres://app:LogTargetPw@db");
    tracing_log::log::info!(target: &target, "connected");
    let lines = parse(&logs);
    let connected = lines
        .iter()
        .find(|l| l["message"] == "connected")
        .expect("the record");
    assert_eq!(
        connected["target"], "db::postgres://app:[REDACTED]@db",
        "{connected}"
    );
    assert!(!logs.text().contains("LogTargetPw"));

    // A panic in a spawned task, inside the task's span.
    let task_span = tracing::info_span!("job", request_id = "req-panic-1");
    let panic_trace = format!(
        "{:032x}",
        observe_telemetry::trace_id_of(&task_span).unwrap()
    );
    let line = line!() + 2;
    let joined =
        tokio::spawn(async { panic!("card 4111 1111 1111 1111 declined") }.instrument(task_span))
            .await;
    assert!(joined.unwrap_err().is_panic());
    let lines = parse(&logs);
    let panics: Vec<&Value> = lines
        .iter()
        .filter(|l| l["error.type"] == "panic")
        .collect();
    assert_eq!(panics.len(), 1, "logged once: {panics:#?}");
    let panic = panics[0];
    assert_eq!(panic["level"], "ERROR");
    assert_eq!(panic["target"], "panic");
    assert_eq!(panic["trace_id"], panic_trace.as_str());
    assert_eq!(panic["request_id"], "req-panic-1");
    assert_eq!(
        panic["error.message"], "card [REDACTED] declined",
        "{panic}"
    );
    assert!(
        panic["code.file.path"]
            .as_str()
            .is_some_and(|p| p.ends_with("logs_sources.rs")),
        "{panic}"
    );
    assert_eq!(panic["code.line.number"], line);
    assert!(
        panic["exception.stacktrace"]
            .as_str()
            .is_some_and(|s| s.contains("logs_sources")),
        "{panic}"
    );

    // A panic observe catches while formatting a value: not a panic of the
    // program, not logged.
    let recorded = observe_runtime::__private::field_debug(&Panicky);
    let _ = recorded;
    let lines = parse(&logs);
    assert_eq!(
        lines.iter().filter(|l| l["error.type"] == "panic").count(),
        1,
        "{lines:#?}"
    );
    assert!(!logs.text().contains("Debug of Panicky"));
}
