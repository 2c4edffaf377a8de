//! `init` end to end in one process: the JSON lines, redaction on the log
//! and span paths, the run-time filter, and the flight recorder.

use observe_telemetry::{LogWriter, Telemetry};
use serde_json::Value;

const SECRETS: &[&str] = &[
    "hunter2",
    "abcdefghijklmnopqrstuvwxyz0123",
    "4111 1111 1111 1111",
    "4111111111111111",
    "AKIAIOSFODNN7EXAMPLE",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    "s3cr3t-pw",
];

#[test]
fn one_process_end_to_end() {
    let (log_writer, buffer) = LogWriter::memory();
    let guard = Telemetry::builder()
        .service_name("svc")
        .service_version("1.2.3")
        .environment("test")
        .log_writer(log_writer)
        .log_filter("info")
        .try_init()
        .expect("first init");

    // A second init does not panic and shares the set-up.
    let second = observe_telemetry::init();
    assert!(second.metrics_handle().is_some());

    #[derive(Debug)]
    #[allow(dead_code)]
    struct Login {
        user: &'static str,
        password: &'static str,
    }
    let trace_id;
    {
        let request = tracing::info_span!(
            "request",
            request_id = "req-1",
            password = "hunter2",
            otel.status_code = tracing::field::Empty
        );
        let _entered = request.enter();
        trace_id = format!(
            "{:032x}",
            observe_telemetry::trace_id_of(&request).expect("an OTel trace id")
        );
        tracing::info!(
            authorization = "Bearer abcdefghijklmnopqrstuvwxyz0123",
            login = ?Login { user: "ann", password: "s3cr3t-pw" },
            note = "card 4111 1111 1111 1111 key AKIAIOSFODNN7EXAMPLE jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
            weird = "quote \" backslash \\ newline \n tab \t unicode é ✓ \u{0007}",
            "handling with Bearer abcdefghijklmnopqrstuvwxyz0123"
        );
        let inner = tracing::info_span!("payment", card_number = 4111111111111111u64);
        inner.in_scope(|| {
            tracing::warn!(
                flow = "checkout",
                outcome = "error",
                duration_ms = 12.5,
                "payment failed"
            )
        });
        request.record("otel.status_code", "ERROR");
    }
    tracing::info!("outside any span");

    // The run-time filter.
    guard.set_log_filter("warn").expect("valid directives");
    assert_eq!(guard.log_filter().unwrap().current(), "warn");
    tracing::info!("filtered out");
    tracing::warn!("still shown");
    // Quieter logs keep the request's span: its WARN lines still carry
    // the request id and the trace id.
    tracing::info_span!("quiet_request", request_id = "req-2").in_scope(|| {
        tracing::info!("filtered out too");
        tracing::warn!("warned inside a request");
    });
    guard.set_log_filter("info").unwrap();
    assert!(guard.set_log_filter("info,[").is_err());

    let lines = buffer.lines();
    assert!(lines.len() >= 4, "{lines:#?}");
    let parsed: Vec<serde_json::Map<String, Value>> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    for (line, fields) in lines.iter().zip(&parsed) {
        for key in [
            "timestamp",
            "level",
            "message",
            "target",
            "service",
            "environment",
            "version",
        ] {
            assert!(fields.contains_key(key), "{key} missing: {line}");
        }
        assert_eq!(fields["service"], "svc");
        assert_eq!(fields["environment"], "test");
        assert_eq!(fields["version"], "1.2.3");
        assert!(
            fields["timestamp"].as_str().unwrap().ends_with('Z'),
            "RFC 3339 UTC: {line}"
        );
        for secret in SECRETS {
            assert!(!line.contains(secret), "{secret} leaked: {line}");
        }
    }
    let in_request: Vec<_> = parsed
        .iter()
        .filter(|f| f.get("request_id").is_some_and(|id| id == "req-1"))
        .collect();
    assert_eq!(in_request.len(), 2, "{lines:#?}");
    for fields in &in_request {
        assert_eq!(fields["request_id"], "req-1");
        assert_eq!(fields["trace_id"], trace_id.as_str());
        assert_eq!(fields["span_id"].as_str().unwrap().len(), 16);
    }
    let failed = parsed
        .iter()
        .find(|f| f["message"] == "payment failed")
        .unwrap();
    assert_eq!(failed["flow"], "checkout");
    assert_eq!(failed["outcome"], "error");
    assert_eq!(failed["duration_ms"], 12.5);
    assert_eq!(failed["card_number"], "[REDACTED]");
    let weird = parsed.iter().find(|f| f.get("weird").is_some()).unwrap();
    assert!(weird["weird"].as_str().unwrap().contains("unicode é ✓"));
    assert!(
        !parsed
            .iter()
            .any(|f| f["message"] == "filtered out" || f["message"] == "filtered out too")
    );
    let quiet = parsed
        .iter()
        .find(|f| f["message"] == "warned inside a request")
        .unwrap();
    assert_eq!(quiet["request_id"], "req-2");
    assert_eq!(quiet["trace_id"].as_str().map(str::len), Some(32));
    assert!(parsed.iter().any(|f| f["message"] == "still shown"));
    assert!(
        parsed
            .iter()
            .find(|f| f["message"] == "outside any span")
            .unwrap()
            .get("trace_id")
            .is_none()
    );

    // The flight recorder kept the failed trace, scrubbed, with its lines.
    let recorder = guard.flight_recorder().unwrap();
    let trace = recorder.trace(&trace_id).expect("the failed trace is kept");
    assert!(trace.has_error());
    assert_eq!(trace.spans.len(), 2);
    assert_eq!(trace.logs.len(), 2);
    let json = trace.to_json().to_string();
    for secret in SECRETS {
        assert!(
            !json.contains(secret),
            "{secret} leaked into the flight recorder: {json}"
        );
    }
    let waterfall = trace.waterfall(Default::default());
    assert!(
        waterfall.contains("request")
            && waterfall.contains("└─ payment")
            && waterfall.contains('✗'),
        "{waterfall}"
    );
    assert!(!waterfall.contains('\x1b'));
    drop(second);
    drop(guard);
}
