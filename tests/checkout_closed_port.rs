//! With the OTLP endpoint on a closed port, a load run completes with no
//! failed requests, memory stays bounded, and the failure is reported by
//! one warning rather than one per export.

#[allow(dead_code)]
#[path = "../examples/checkout/app.rs"]
mod app;

use std::time::Duration;

use observe::{LogWriter, Telemetry};

/// Resident memory in KiB, from /proc.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line")
}

#[test]
fn a_closed_port_costs_the_application_nothing() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // SAFETY: set before any other thread exists.
    unsafe {
        std::env::set_var(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{port}"),
        );
        std::env::set_var("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
    }
    let (log_writer, logs) = LogWriter::memory();
    let telemetry = Telemetry::builder()
        .log_writer(log_writer)
        .try_init()
        .expect("init");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // No injected failures: any failed request would be the exporter's doing.
    let faults = app::Faults {
        payment_timeout: 0.0,
        payment_decline: 0.0,
        slow_inventory: 0.0,
    };
    let services = runtime
        .block_on(app::start(
            "127.0.0.1:0".parse().unwrap(),
            "127.0.0.1:0".parse().unwrap(),
            faults,
        ))
        .unwrap();

    // A warm-up run, then two measured runs: memory must not grow with the
    // number of spans that cannot be exported.
    let mut rss = Vec::new();
    let mut sent = 0;
    for _ in 0..3 {
        let load = runtime.block_on(app::run_load(
            &services.shop_url(),
            Duration::from_secs(2),
            50,
        ));
        assert_eq!(load.failed(), 0, "{load:?}");
        // 409 is the demo's out-of-stock SKU: an answer, not a failure.
        assert!(
            load.by_status
                .keys()
                .all(|status| matches!(status, 200 | 409)),
            "{load:?}"
        );
        sent += load.sent;
        telemetry.force_flush();
        rss.push(rss_kib());
    }
    assert!(sent >= 300);
    // Each run makes about ten spans per request, well over the export
    // queue (2048) in total; growth between the later runs stays small.
    let growth = rss[2].saturating_sub(rss[1]);
    assert!(
        growth < 64 * 1024,
        "resident memory grew by {growth} KiB between runs: {rss:?}"
    );

    let text = logs.text();
    let warnings: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("OTLP trace export failed"))
        .collect();
    assert_eq!(warnings.len(), 1, "one warning, not a flood: {warnings:#?}");
    let warning: serde_json::Value = serde_json::from_str(warnings[0]).unwrap();
    assert_eq!(warning["level"], "WARN");
    assert!(
        !text
            .lines()
            .any(|l| l.contains("\"target\":\"opentelemetry")),
        "the SDK's own errors leak"
    );
    for line in text.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
    drop(telemetry);
}
