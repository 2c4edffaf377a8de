//! Under a global recorder, handles are cached per call site: a generic
//! function whose label is a type parameter, and a default trait method
//! called through several implementors, share one static, yet every
//! instantiation and implementor is counted under its own labels, exactly.

use metrics_exporter_prometheus::PrometheusBuilder;
use observe::{Label, observe};

#[derive(Debug, Clone, Copy, Label)]
enum Color {
    Red,
    Green,
}

#[derive(Debug, Clone, Copy, Label)]
enum Size {
    Small,
    #[allow(dead_code)]
    Large,
    Huge,
}

#[observe(flow = "paint", labels(kind = kind))]
fn paint<L: Label>(kind: L) -> usize {
    L::VALUES.len()
}

trait Greet {
    #[observe(flow = "greet")]
    fn greet(&self) -> u8 {
        1
    }
}

struct Alice;
struct Bob;
impl Greet for Alice {}
impl Greet for Bob {}

fn value(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn every_instantiation_and_implementor_is_counted_under_its_own_labels() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).unwrap();

    for _ in 0..3 {
        paint(Color::Red);
    }
    paint(Color::Green);
    for _ in 0..5 {
        paint(Size::Huge);
    }
    paint(Size::Small);
    Alice.greet();
    for _ in 0..4 {
        Bob.greet();
    }

    let text = handle.render();
    let calls = |labels: &str| {
        value(&text, &format!("flow_calls_total{{{labels}}}"))
            .unwrap_or_else(|| panic!("no series {{{labels}}} in:\n{text}"))
    };
    let paint_series = |kind: &str| {
        format!(
            "flow=\"paint\",function=\"paint\",module=\"generic_labels_global\",outcome=\"ok\",kind=\"{kind}\""
        )
    };
    assert_eq!(calls(&paint_series("red")), 3.0);
    assert_eq!(calls(&paint_series("green")), 1.0);
    assert_eq!(calls(&paint_series("huge")), 5.0);
    assert_eq!(calls(&paint_series("small")), 1.0);
    let greet = |function: &str| {
        format!(
            "flow=\"greet\",function=\"{function}\",module=\"generic_labels_global\",outcome=\"ok\""
        )
    };
    assert_eq!(calls(&greet("Alice::greet")), 1.0);
    assert_eq!(calls(&greet("Bob::greet")), 4.0);
    assert_eq!(
        value(
            &text,
            "flow_calls_in_flight{flow=\"greet\",function=\"Bob::greet\",module=\"generic_labels_global\"}"
        ),
        Some(0.0)
    );
}
