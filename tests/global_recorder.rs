//! With a global recorder (the Prometheus exporter): handles are cached per
//! call site and label combination, the recorder may be installed after the
//! first call, and a thread-local recorder still takes precedence.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use observe::{Label, observe};

#[derive(Debug, Clone, Copy, Label)]
enum Region {
    Eu,
    Us,
}

#[observe(flow = "checkout", labels(region = region))]
fn checkout(region: Region, fail: bool) -> Result<(), std::io::Error> {
    if fail {
        Err(std::io::Error::other("down"))
    } else {
        Ok(())
    }
}

fn line_value(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn global_recorder_installed_after_first_call() {
    // Before any recorder: nothing to record, and the call works.
    checkout(Region::Eu, false).unwrap();

    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("flow_call_duration_seconds".into()),
            &[0.001, 0.01, 0.1, 1.0],
        )
        .unwrap()
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).unwrap();

    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for i in 0..250 {
                    checkout(
                        if i % 5 == 0 { Region::Us } else { Region::Eu },
                        i % 50 == 0,
                    )
                    .ok();
                }
            });
        }
    });

    // A thread-local recorder overrides the global one, call by call.
    let local = DebuggingRecorder::new();
    let snapshotter = local.snapshotter();
    metrics::with_local_recorder(&local, || checkout(Region::Us, false).unwrap());
    let local_calls: u64 = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| key.key().name() == "flow_calls_total")
        .map(|(.., value)| match value {
            DebugValue::Counter(v) => v,
            _ => 0,
        })
        .sum();
    assert_eq!(local_calls, 1);

    let text = handle.render();
    let ok_eu = r#"flow_calls_total{flow="checkout",function="checkout",module="global_recorder",outcome="ok",region="eu"}"#;
    let ok_us = r#"flow_calls_total{flow="checkout",function="checkout",module="global_recorder",outcome="ok",region="us"}"#;
    let err_eu = r#"flow_calls_total{flow="checkout",function="checkout",module="global_recorder",outcome="error",region="eu"}"#;
    let err_us = r#"flow_calls_total{flow="checkout",function="checkout",module="global_recorder",outcome="error",region="us"}"#;
    // 1000 calls: i % 5 == 0 -> us (200), of which i % 50 == 0 fail (20).
    assert_eq!(line_value(&text, ok_eu), Some(800.0), "{text}");
    assert_eq!(line_value(&text, ok_us), Some(180.0), "{text}");
    assert_eq!(line_value(&text, err_us), Some(20.0), "{text}");
    assert_eq!(line_value(&text, err_eu), None, "{text}");
    let errors = r#"flow_errors_total{flow="checkout",function="checkout",module="global_recorder",error_kind="error",region="us"}"#;
    assert_eq!(line_value(&text, errors), Some(20.0), "{text}");
    let inf_bucket = r#"flow_call_duration_seconds_bucket{flow="checkout",function="checkout",module="global_recorder",outcome="ok",region="eu",le="+Inf"}"#;
    assert_eq!(line_value(&text, inf_bucket), Some(800.0), "{text}");
    let in_flight =
        r#"flow_calls_in_flight{flow="checkout",function="checkout",module="global_recorder"}"#;
    assert_eq!(line_value(&text, in_flight), Some(0.0), "{text}");
    assert!(text.contains("# TYPE flow_call_duration_seconds histogram"));
    assert!(text.contains("# HELP flow_calls_total"));
}
