//! The process-wide cardinality guard under `init`: a legacy-style
//! `metrics::counter!` with a per-user label, called for 10,000 distinct
//! users, makes at most the cap of series (the overflow one included); the
//! overflow series holds the rest of the count exactly; the overflow
//! counter names the label; exactly one warning line is logged.

use observe_telemetry::{LogWriter, Telemetry};

const USERS: u64 = 10_000;

#[test]
fn a_per_user_label_is_folded_at_the_cap() {
    let (log_writer, logs) = LogWriter::memory();
    let guard = Telemetry::builder()
        .service_name("legacy")
        .log_writer(log_writer)
        .metric_cardinality_limit_for("http_server_request_duration_seconds", 5)
        .try_init()
        .expect("init");
    for user in 0..USERS {
        // Each user orders `user % 3 + 1` items: the folded total is not a count of calls.
        metrics::counter!("orders_total", "user" => user.to_string(), "shop" => "eu")
            .increment(user % 3 + 1);
    }
    // The HTTP layer's histogram goes through the same guard (here with a
    // per-metric cap of 5): raw paths as its route label are folded.
    for order in 0..20 {
        metrics::histogram!("http_server_request_duration_seconds", "http_route" => format!("/orders/{order}"))
            .record(0.01);
    }
    let text = guard.metrics_handle().expect("installed").render();

    let series: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("orders_total{"))
        .collect();
    // 2000 series at most, the overflow series included.
    assert_eq!(series.len(), 2000, "{}", series.len());
    let overflow = series
        .iter()
        .find(|l| l.starts_with("orders_total{otel_metric_overflow=\"true\"} "))
        .expect("an overflow series");
    let kept: u64 = (0..1999).map(|user| user % 3 + 1).sum();
    let folded: u64 = (1999..USERS).map(|user| user % 3 + 1).sum();
    let value = |line: &str| line.rsplit(' ').next().unwrap().parse::<u64>().unwrap();
    assert_eq!(value(overflow), folded);
    let total: u64 = series.iter().map(|l| value(l)).sum();
    assert_eq!(total, kept + folded);
    assert!(
        text.contains(&format!(
            "observe_metric_overflow_total{{metric=\"orders_total\",label=\"user\"}} {}\n",
            USERS - 1999
        )),
        "{text}"
    );

    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("http_server_request_duration_seconds_count{"))
            .collect::<Vec<_>>(),
        [
            "http_server_request_duration_seconds_count{http_route=\"/orders/0\"} 1",
            "http_server_request_duration_seconds_count{http_route=\"/orders/1\"} 1",
            "http_server_request_duration_seconds_count{http_route=\"/orders/2\"} 1",
            "http_server_request_duration_seconds_count{http_route=\"/orders/3\"} 1",
            "http_server_request_duration_seconds_count{otel_metric_overflow=\"true\"} 16",
        ]
    );
    assert!(text.contains("http_server_request_duration_seconds_bucket{otel_metric_overflow=\"true\",le=\"0.01\"} 16\n"), "{text}");

    let warnings: Vec<String> = logs
        .lines()
        .into_iter()
        .filter(|l| l.contains("\"level\":\"WARN\"") && l.contains("orders_total"))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    let warning: serde_json::Value = serde_json::from_str(&warnings[0]).unwrap();
    assert_eq!(warning["metric"], "orders_total", "{warning}");
    assert_eq!(warning["label"], "user", "{warning}");
    assert_eq!(warning["limit"], 2000, "{warning}");
    let message = warning["message"].as_str().unwrap();
    assert!(message.contains("cargo observe lint"), "{message}");
}
