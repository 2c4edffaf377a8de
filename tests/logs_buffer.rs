//! Per-trace log buffering under `observe::init` with `RUST_LOG=info`: a
//! failed request's DEBUG lines are written at its end, in order, with
//! `log.buffered = true` and its trace id, redacted; a successful request
//! leaves none; completion lines dropped by `sample = 0.1` are flushed with
//! the failed request; the three counters count it.

use observe::{LogWriter, Telemetry, observe};
use serde_json::Value;

#[derive(Debug, observe::Label)]
enum PaymentError {
    Declined,
}

impl std::fmt::Display for PaymentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("declined")
    }
}

const SECRET: &str = "sk_live_abcdefghijklmnopqrstuvwx";

#[observe(flow = "payment")]
fn charge(order: u64, fail: bool) -> Result<(), PaymentError> {
    tracing::debug!(order, step = "validate", "token {SECRET}");
    tracing::debug!(order, step = "authorize", "asking the provider");
    if fail {
        Err(PaymentError::Declined)
    } else {
        Ok(())
    }
}

#[observe(flow = "payment", sample = 0.1)]
fn lookup(order: u64) -> Result<u64, PaymentError> {
    Ok(order)
}

/// One request under its own root span, as the HTTP layer opens one.
fn request(order: u64, fail: bool) -> String {
    let span = tracing::info_span!("request", request_id = format!("req-{order}"));
    let _entered = span.enter();
    let trace_id = format!(
        "{:032x}",
        observe_telemetry::trace_id_of(&span).expect("an OTel trace id")
    );
    let _ = lookup(order);
    let _ = charge(order, fail);
    trace_id
}

fn parse(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn counter(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with(name) && !l.starts_with('#'))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn failed_requests_flush_their_debug_lines() {
    let (writer, logs) = LogWriter::memory();
    let telemetry = Telemetry::builder()
        .service_name("buffer-test")
        .log_filter("info")
        .log_writer(writer)
        .try_init()
        .expect("init");

    // A success: its DEBUG lines are dropped at its end.
    let ok_trace = request(1, false);
    let lines = parse(&logs.text());
    assert!(
        lines.iter().all(|l| l["level"] != "DEBUG"),
        "{}",
        logs.text()
    );
    assert!(lines.iter().all(|l| l.get("log.buffered").is_none()));
    assert!(
        lines
            .iter()
            .any(|l| l["trace_id"] == ok_trace.as_str() && l["function"] == "charge"),
        "the success line of charge is written: {}",
        logs.text()
    );

    // Failures: each writes its DEBUG lines, in order, after the error.
    let mut failed = Vec::new();
    for order in 100..120 {
        failed.push(request(order, true));
    }
    let lines = parse(&logs.text());
    for trace_id in &failed {
        let of_trace: Vec<&Value> = lines
            .iter()
            .filter(|l| l["trace_id"] == trace_id.as_str())
            .collect();
        let debug: Vec<&&Value> = of_trace.iter().filter(|l| l["level"] == "DEBUG").collect();
        assert_eq!(debug.len(), 2, "{of_trace:#?}");
        assert_eq!(debug[0]["step"], "validate");
        assert_eq!(debug[1]["step"], "authorize");
        for line in &debug {
            assert_eq!(line["log.buffered"], true, "{line}");
            assert_eq!(line["flow"], "payment");
            assert_eq!(line["target"], "logs_buffer");
            assert!(line["request_id"].as_str().unwrap().starts_with("req-1"));
            assert!(line["span_id"].as_str().is_some_and(|s| s.len() == 16));
        }
        assert_eq!(
            debug[0]["message"], "token [REDACTED]",
            "redacted before it was held"
        );
        // Original timestamps: earlier than the failure line written first.
        let error = of_trace
            .iter()
            .find(|l| l["message"] == "call failed")
            .expect("the failure line");
        assert!(debug[1]["timestamp"].as_str() <= error["timestamp"].as_str());
        // The sampled-out success line of `lookup` is there exactly once:
        // written (10% of traces) or rebuilt from the buffer.
        let lookups: Vec<&&Value> = of_trace
            .iter()
            .filter(|l| l["function"] == "lookup")
            .collect();
        assert_eq!(lookups.len(), 1, "{of_trace:#?}");
        let lookup = lookups[0];
        assert_eq!(lookup["message"], "call completed");
        assert_eq!(lookup["outcome"], "ok");
        assert_eq!(lookup["flow"], "payment");
        assert_eq!(lookup["level"], "INFO");
        assert_eq!(lookup["service"], "buffer-test");
        assert!(lookup["duration_ms"].is_f64(), "{lookup}");
        assert!(lookup["request_id"].as_str().unwrap().starts_with("req-1"));
        assert_eq!(lookup["code.function"], "lookup", "the span's own fields");
    }
    let rebuilt = lines
        .iter()
        .filter(|l| l["function"] == "lookup" && l["log.buffered"] == true)
        .count();
    assert!(rebuilt >= 10, "most of the 20 were sampled out: {rebuilt}");
    assert!(!logs.text().contains(SECRET));
    assert_eq!(observe::log_buffer_bytes(), 0, "every trace settled");

    let metrics = telemetry.metrics_handle().expect("metrics").render();
    // 20 failed traces: 2 DEBUG lines each and the sampled-out lookups.
    assert_eq!(
        counter(&metrics, "observe_log_lines_flushed_total"),
        (40 + rebuilt) as f64,
        "{metrics}"
    );
    let buffered = counter(&metrics, "observe_log_lines_buffered_total");
    let discarded = counter(&metrics, "observe_log_lines_discarded_total");
    assert!(discarded >= 2.0, "the success's DEBUG lines: {metrics}");
    assert_eq!(buffered, (40 + rebuilt) as f64 + discarded, "{metrics}");
}
