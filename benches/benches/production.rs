//! Per-call cost of `#[observe]` under `observe::init()` (the pipeline a
//! user runs: JSON logs with redaction, the OpenTelemetry layer, the
//! flight recorder, Prometheus), next to the production stack wired by
//! hand and `#[tracing::instrument]` on it. Every set-up installs globals,
//! so the binary re-executes itself once per scenario; each child prints
//! the median of its batches, and the parent prints the table and the
//! ratios against the targets of issue 9. The scenarios run in rounds,
//! interleaved (`OBSERVE_BENCH_ROUNDS`, default 3), and each reports the
//! median of its rounds.
//!
//! `cargo bench -p observe-benches --bench production`
//! (`-- <name>` runs only the scenarios whose names contain it;
//! `OBSERVE_BENCH_SCENARIO=<name> OBSERVE_BENCH_CALLS=<n>` makes n calls
//! of one scenario without timing, for `perf stat -e instructions:u`.)

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use observe::observe;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider, SpanData, SpanExporter};
use tracing_subscriber::layer::SubscriberExt;

mod common;
use common::{bare, hand_written, observed};

const SCENARIO_ENV: &str = "OBSERVE_BENCH_SCENARIO";

#[observe(flow = "bench", labels(region = "eu"), sample = 0.1)]
#[inline(never)]
fn observed_sampled(x: u64) -> u64 {
    black_box(x) + 1
}

#[observe(flow = "bench", labels(region = "eu"), level = "debug")]
#[inline(never)]
fn observed_debug(x: u64) -> u64 {
    black_box(x) + 1
}

/// A bare call that first asks `metrics` whether a recorder listens, as
/// anything must that counts under a recorder installed at any time,
/// globally or for one thread: the floor of the nothing-installed case.
/// (`metrics` 0.24 answers through `with_recorder` only, whose global
/// look-up is an out-of-line call.)
#[inline(never)]
fn bare_asking_metrics(x: u64) -> u64 {
    if metrics::with_recorder(|recorder| std::mem::size_of_val(recorder) != 0) {
        black_box(x) + 2
    } else {
        black_box(x) + 1
    }
}

#[tracing::instrument(skip_all, fields(flow = "bench"))]
#[inline(never)]
fn instrumented(x: u64) -> u64 {
    black_box(x) + 1
}

/// An exporter that drops every batch: the batch processor's queue and
/// thread run as in production, without a network.
#[derive(Debug)]
struct DiscardExporter;

impl SpanExporter for DiscardExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

/// EnvFilter + tracing-opentelemetry with a batch exporter + `fmt().json()`
/// to a sink + the Prometheus recorder.
fn install_hand_wired_stack() {
    let provider = SdkTracerProvider::builder()
        .with_span_processor(BatchSpanProcessor::builder(DiscardExporter).build())
        .build();
    let tracer = provider.tracer("bench");
    // The provider lives for the whole process.
    std::mem::forget(provider);
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("info"))
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_writer(std::io::sink),
        );
    tracing::subscriber::set_global_default(subscriber).expect("first subscriber");
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .expect("first recorder");
}

fn install_observe() {
    // SAFETY: single-threaded here, before anything reads the environment.
    unsafe {
        std::env::remove_var("OTEL_EXPORTER_OTLP_ENDPOINT");
        std::env::remove_var("RUST_LOG");
        std::env::remove_var("OBSERVE_LOG_FORMAT");
        std::env::remove_var("OBSERVE_METRICS_ADDR");
    }
    let guard = observe::Telemetry::builder()
        .service_name("bench")
        .log_writer(observe::LogWriter::new(std::io::sink()))
        .try_init()
        .expect("first init");
    std::mem::forget(guard);
}

struct Scenario {
    name: &'static str,
    label: &'static str,
    install: fn(),
    function: fn(u64) -> u64,
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "bare",
        label: "bare call",
        install: || {},
        function: bare,
    },
    Scenario {
        name: "bare_asking_metrics",
        label: "bare call asking metrics for a recorder",
        install: || {},
        function: bare_asking_metrics,
    },
    Scenario {
        name: "observe_nothing",
        label: "#[observe] with nothing installed",
        install: || {},
        function: observed,
    },
    Scenario {
        name: "observe_init",
        label: "#[observe] under observe::init()",
        install: install_observe,
        function: observed,
    },
    Scenario {
        name: "observe_init_sampled",
        label: "  the same with sample = 0.1",
        install: install_observe,
        function: observed_sampled,
    },
    Scenario {
        name: "observe_init_debug",
        label: "  the same with level = \"debug\" (info filter)",
        install: install_observe,
        function: observed_debug,
    },
    Scenario {
        name: "hand_wired",
        label: "hand-wired stack, hand-written span+metrics+info!",
        install: install_hand_wired_stack,
        function: hand_written,
    },
    Scenario {
        name: "hand_wired_instrument",
        label: "#[tracing::instrument] on the hand-wired stack",
        install: install_hand_wired_stack,
        function: instrumented,
    },
];

/// Median ns per call over batches of calls, after a warm-up.
fn measure(function: fn(u64) -> u64) -> f64 {
    let warm_up = Instant::now();
    let mut calls_per_batch = 1u64;
    while warm_up.elapsed() < Duration::from_millis(300) {
        let start = Instant::now();
        for i in 0..calls_per_batch {
            black_box(function(black_box(i)));
        }
        // Batches of about 10 ms.
        if start.elapsed() < Duration::from_millis(10) {
            calls_per_batch *= 2;
        }
    }
    let mut samples = Vec::with_capacity(101);
    let measuring = Instant::now();
    while samples.len() < 101
        && (samples.len() < 21 || measuring.elapsed() < Duration::from_millis(1500))
    {
        let start = Instant::now();
        for i in 0..calls_per_batch {
            black_box(function(black_box(i)));
        }
        samples.push(start.elapsed().as_nanos() as f64 / calls_per_batch as f64);
    }
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn run_child(scenario: &Scenario) {
    (scenario.install)();
    // A fixed number of calls and no timing: for counting instructions
    // (`perf stat -e instructions:u`), which a busy machine does not blur.
    if let Some(calls) = std::env::var("OBSERVE_BENCH_CALLS")
        .ok()
        .and_then(|c| c.parse::<u64>().ok())
    {
        for i in 0..calls {
            black_box((scenario.function)(black_box(i)));
        }
        return;
    }
    let ns = measure(scenario.function);
    println!("RESULT {} {ns}", scenario.name);
}

fn main() {
    // `cargo bench` passes `--bench`; a scenario name runs only that one.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let Ok(name) = std::env::var(SCENARIO_ENV) {
        let scenario = SCENARIOS
            .iter()
            .find(|s| s.name == name)
            .expect("a scenario");
        run_child(scenario);
        return;
    }
    let exe = std::env::current_exe().expect("own path");
    // Rounds over all the scenarios, interleaved, so a busy spell of the
    // machine is spread over every set-up; each one's median of rounds.
    let rounds: usize = std::env::var("OBSERVE_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let selected: Vec<&Scenario> = SCENARIOS
        .iter()
        .filter(|s| args.is_empty() || args.iter().any(|a| s.name.contains(a.as_str())))
        .collect();
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); selected.len()];
    for round in 1..=rounds {
        for (scenario, samples) in selected.iter().zip(&mut samples) {
            let output = Command::new(&exe)
                .env(SCENARIO_ENV, scenario.name)
                .output()
                .expect("run a scenario");
            let stdout = String::from_utf8_lossy(&output.stdout);
            let ns = stdout
                .lines()
                .find_map(|line| line.strip_prefix("RESULT "))
                .and_then(|rest| rest.split_whitespace().nth(1))
                .and_then(|ns| ns.parse::<f64>().ok());
            match ns {
                Some(ns) => {
                    println!("round {round}: {:<24} {ns:>10.1} ns", scenario.name);
                    samples.push(ns);
                }
                None => eprintln!(
                    "{} failed: {}\n{}",
                    scenario.name,
                    output.status,
                    String::from_utf8_lossy(&output.stderr)
                ),
            }
        }
    }
    let results: Vec<(&Scenario, f64)> = selected
        .into_iter()
        .zip(samples)
        .filter(|(_, samples)| !samples.is_empty())
        .map(|(scenario, mut samples)| {
            samples.sort_by(f64::total_cmp);
            (scenario, samples[samples.len() / 2])
        })
        .collect();
    print_table(&results);
}

fn print_table(results: &[(&Scenario, f64)]) {
    let get = |name: &str| {
        results
            .iter()
            .find(|(s, _)| s.name == name)
            .map_or(f64::NAN, |(_, ns)| *ns)
    };
    println!("\nmedians (ns per call, one process per set-up, median of rounds)");
    for (scenario, ns) in results {
        println!("  {:<52} {ns:>10.1}", scenario.label);
    }
    let observe = get("observe_init");
    println!("\ntargets (issue 9)");
    println!(
        "  observe::init / #[tracing::instrument] on the hand-wired stack = {:.2}x (target <= 1.5x)",
        observe / get("hand_wired_instrument")
    );
    println!(
        "  observe::init / hand-wired stack, hand-written              = {:.2}x (target <= 0.5x, moonshot <= 0.25x)",
        observe / get("hand_wired")
    );
    println!(
        "  sample = 0.1 / unsampled                                     = {:.2}x (target <= 0.6x)",
        get("observe_init_sampled") / observe
    );
    println!(
        "  level = \"debug\" under info / unsampled                      = {:.2}x (reference)",
        get("observe_init_debug") / observe
    );
    println!(
        "  nothing installed - bare call                                = {:+.1} ns (target <= 5 ns)",
        get("observe_nothing") - get("bare")
    );
    println!(
        "    of which asking metrics for a recorder                     = {:+.1} ns (reference)",
        get("bare_asking_metrics") - get("bare")
    );
}
