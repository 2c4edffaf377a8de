//! What exemplars cost, with observe's own recorder (`observe::init`):
//!
//! 1. `observe_recorder_only`: observe's recorder installed and no
//!    subscriber in force (a `NoSubscriber` default), as the overhead
//!    bench's `recorder_only` group; the targets there still hold here
//!    (observe <= 0.4x the hand-written macros, <= 2x the floor).
//! 2. `observe_init`: everything `init` installs, a trace in force: the
//!    whole annotated call, and one histogram sample through observe's
//!    recorder inside an entered span (its ids read for an exemplar)
//!    against the same sample outside any span (no ids, no exemplar).
//!
//! `cargo bench -p observe-benches --bench exemplars`

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Duration;

use criterion::Criterion;
use metrics::Histogram;
use observe::{LogWriter, Telemetry};

mod common;
use common::{bare, floor, hand_written, observed};

fn sample_handle() -> &'static Histogram {
    static HANDLE: OnceLock<Histogram> = OnceLock::new();
    HANDLE.get_or_init(|| metrics::histogram!("sample_seconds", "outcome" => "ok"))
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let _telemetry = Telemetry::builder()
        .log_writer(LogWriter::new(std::io::sink()))
        .try_init()
        .expect("init");

    {
        let _none = tracing::subscriber::set_default(tracing::subscriber::NoSubscriber::default());
        let mut g = criterion.benchmark_group("observe_recorder_only");
        for (name, function) in [
            ("bare", bare as fn(u64) -> u64),
            ("observe", observed),
            ("hand_written", hand_written),
            ("floor", floor),
        ] {
            g.bench_function(name, |b| b.iter(|| function(black_box(7))));
        }
        g.finish();
    }

    let mut g = criterion.benchmark_group("observe_init");
    g.bench_function("observe", |b| b.iter(|| observed(black_box(7))));
    g.bench_function("hand_written", |b| b.iter(|| hand_written(black_box(7))));
    let histogram = sample_handle();
    g.bench_function("sample_outside_span", |b| {
        b.iter(|| histogram.record(black_box(0.004)))
    });
    let span = tracing::info_span!("request");
    let _entered = span.enter();
    g.bench_function("sample_in_span_with_exemplar", |b| {
        b.iter(|| histogram.record(black_box(0.004)))
    });
    g.finish();

    criterion.final_summary();
    print_ratios();
}

/// Median of one benchmark, read from criterion's own estimates.
fn median_ns(group: &str, bench: &str) -> f64 {
    let target = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target").to_string());
    let path = std::path::Path::new(&target)
        .join("criterion")
        .join(group)
        .join(bench)
        .join("new")
        .join("estimates.json");
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|json| json["median"]["point_estimate"].as_f64())
        .unwrap_or(f64::NAN)
}

fn print_ratios() {
    let r = |b| median_ns("observe_recorder_only", b);
    let i = |b| median_ns("observe_init", b);
    println!("\nmedians (ns per call)");
    println!(
        "  observe_recorder_only  bare {:.1} | observe {:.1} | hand_written {:.1} | floor {:.1}",
        r("bare"),
        r("observe"),
        r("hand_written"),
        r("floor")
    );
    println!(
        "  observe_init           observe {:.1} | hand_written {:.1} | sample_outside_span {:.1} | sample_in_span_with_exemplar {:.1}",
        i("observe"),
        i("hand_written"),
        i("sample_outside_span"),
        i("sample_in_span_with_exemplar")
    );
    println!("\ntargets");
    println!(
        "  recorder only: observe / hand-written = {:.2}x (target <= 0.4x); observe / floor = {:.2}x (target <= 2x)",
        r("observe") / r("hand_written"),
        r("observe") / r("floor")
    );
    println!(
        "  under init:    exemplar cost per sample = {:.1} ns (in a span minus outside)",
        i("sample_in_span_with_exemplar") - i("sample_outside_span")
    );
}
