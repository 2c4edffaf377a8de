//! Per-call overhead of `#[observe]`, side by side in one run with a bare
//! call, the hand-written equivalent (span + `metrics` macros + `Instant` +
//! one `info!`), the hardware floor of what is recorded, and the peers
//! (`#[tracing::instrument]`, `#[autometrics]`), under three set-ups:
//! nothing installed; the Prometheus recorder only; recorder and a
//! subscriber that records the span and the event. Ends with a table of
//! medians and the ratios the README quotes.
//!
//! `cargo bench -p observe-benches`

use std::hint::black_box;
use std::time::Duration;

use autometrics::autometrics;
use criterion::Criterion;
use metrics_exporter_prometheus::PrometheusBuilder;
use tracing_subscriber::layer::SubscriberExt;

mod common;
use common::{bare, floor, hand_written, observed};

#[tracing::instrument(skip_all, fields(flow = "bench"))]
#[inline(never)]
fn instrumented(x: u64) -> u64 {
    black_box(x) + 1
}

#[autometrics(track_concurrency)]
#[inline(never)]
fn autometricized(x: u64) -> u64 {
    black_box(x) + 1
}

/// Visits every field of every span and event, as a recording layer does.
struct FieldRecorder;

struct CountFields(usize);

impl tracing::field::Visit for CountFields {
    fn record_debug(&mut self, _field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        black_box(value);
        self.0 += 1;
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for FieldRecorder {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _id: &tracing::span::Id,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut visitor = CountFields(0);
        attrs.record(&mut visitor);
        black_box(visitor.0);
    }

    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut visitor = CountFields(0);
        event.record(&mut visitor);
        black_box(visitor.0);
    }
}

type Case = (&'static str, fn(u64) -> u64);

fn run_group(c: &mut Criterion, group: &str, cases: &[Case]) {
    let mut g = c.benchmark_group(group);
    for (name, function) in cases {
        g.bench_function(*name, |b| b.iter(|| function(black_box(7))));
    }
    g.finish();
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();

    // 1. Nothing installed: no recorder, no subscriber.
    run_group(
        &mut criterion,
        "nothing_installed",
        &[
            ("bare", bare),
            ("observe", observed),
            ("hand_written", hand_written),
            ("tracing_instrument", instrumented),
            ("autometrics", autometricized),
        ],
    );

    // 2. The Prometheus recorder, globally, with histogram buckets.
    PrometheusBuilder::new()
        .set_buckets(&[0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0])
        .unwrap()
        .install_recorder()
        .expect("first recorder");
    run_group(
        &mut criterion,
        "recorder_only",
        &[
            ("bare", bare),
            ("observe", observed),
            ("hand_written", hand_written),
            ("floor", floor),
            ("autometrics", autometricized),
        ],
    );

    // 3. Recorder and the lightest subscriber that records the span and the
    //    event: the registry and a layer that visits every field.
    let guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(FieldRecorder));
    run_group(
        &mut criterion,
        "everything_on",
        &[
            ("observe", observed),
            ("hand_written", hand_written),
            ("tracing_instrument", instrumented),
        ],
    );
    drop(guard);

    // 4. For reference: the same with a JSON formatting layer writing to a
    //    sink, where formatting dominates both.
    let subscriber = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::sink),
    );
    let guard = tracing::subscriber::set_default(subscriber);
    run_group(
        &mut criterion,
        "with_json_logs",
        &[("observe", observed), ("hand_written", hand_written)],
    );
    drop(guard);

    criterion.final_summary();
    print_ratios();
}

/// Median of one benchmark, read from criterion's own estimates.
fn median_ns(group: &str, bench: &str) -> Option<f64> {
    let root = std::env::var("CRITERION_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            let target = std::env::var("CARGO_TARGET_DIR")
                .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target").to_string());
            std::path::Path::new(&target).join("criterion")
        });
    let path = root
        .join(group)
        .join(bench)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn print_ratios() {
    let rows = [
        (
            "nothing_installed",
            [
                "bare",
                "observe",
                "hand_written",
                "tracing_instrument",
                "autometrics",
            ]
            .as_slice(),
        ),
        (
            "recorder_only",
            ["bare", "observe", "hand_written", "floor", "autometrics"].as_slice(),
        ),
        (
            "everything_on",
            ["observe", "hand_written", "tracing_instrument"].as_slice(),
        ),
        ("with_json_logs", ["observe", "hand_written"].as_slice()),
    ];
    println!("\nmedians (ns per call)");
    for (group, benches) in rows {
        let cells: Vec<String> = benches
            .iter()
            .map(|b| {
                format!(
                    "{b} {}",
                    median_ns(group, b).map_or("-".into(), |ns| format!("{ns:.1}"))
                )
            })
            .collect();
        println!("  {group:<18} {}", cells.join(" | "));
    }
    let get = |g, b| median_ns(g, b).unwrap_or(f64::NAN);
    println!("\ntargets");
    println!(
        "  nothing installed: observe - bare = {:.1} ns (target <= 5 ns)",
        get("nothing_installed", "observe") - get("nothing_installed", "bare")
    );
    println!(
        "  recorder only:     observe / hand-written = {:.2}x (target <= 0.4x); observe / floor = {:.2}x (target <= 2x)",
        get("recorder_only", "observe") / get("recorder_only", "hand_written"),
        get("recorder_only", "observe") / get("recorder_only", "floor")
    );
    println!(
        "  everything on:     observe / hand-written = {:.2}x (target <= 0.6x)",
        get("everything_on", "observe") / get("everything_on", "hand_written")
    );
    println!(
        "  with JSON logs:    observe / hand-written = {:.2}x (reference)",
        get("with_json_logs", "observe") / get("with_json_logs", "hand_written")
    );
}
