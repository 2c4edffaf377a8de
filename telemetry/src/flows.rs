//! `observe::flows()`: every instrumented function with its knobs, changed
//! at run time per flow or per function, optionally for a limited time.
//!
//! The knobs themselves live in `observe_runtime::knobs` (an atomic per
//! function, read on the hot path); this module finds the functions a
//! name means, applies a change, rebuilds `tracing`'s interest cache when
//! a verbosity changes (so events of the new level reach the log output),
//! and puts the code's values back when a timed change expires.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use observe_runtime::knobs::{self, Overrides};
use observe_runtime::{FunctionInfo, catalog};
use tracing::Level;

/// The handle on every instrumented function's knobs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flows;

/// The functions and their knobs at run time.
pub fn flows() -> Flows {
    Flows
}

/// One instrumented function and the knobs in force for it.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowKnobs {
    /// The flow.
    pub flow: &'static str,
    /// The function.
    pub function: &'static str,
    /// The module path.
    pub module: &'static str,
    /// The level of its span and success line (fixed in the code).
    pub level: Level,
    /// The lowest level of events written inside its spans, when raised
    /// at run time (else `RUST_LOG` decides).
    pub verbosity: Option<Level>,
    /// The sampling rate of successful completion lines in force.
    pub sample: Option<f64>,
    /// The slow threshold in force.
    pub slow: Option<Duration>,
    /// Which of the above are run-time overrides.
    pub overrides: Overrides,
}

/// Which knob a change sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Knob {
    Verbosity,
    Sample,
    Slow,
}

/// A change just applied to the matched functions; [`Change::for_duration`]
/// makes it temporary.
#[derive(Debug)]
#[must_use = "the change is applied already; call `for_duration` to make it temporary"]
pub struct Change {
    applied: Vec<(&'static FunctionInfo, Knob, u64)>,
}

/// Generation per (function, knob): a timed reset undoes only the change
/// it was made for.
fn generations() -> &'static Mutex<HashMap<(usize, Knob), u64>> {
    static GENERATIONS: OnceLock<Mutex<HashMap<(usize, Knob), u64>>> = OnceLock::new();
    GENERATIONS.get_or_init(Default::default)
}

fn key(info: &'static FunctionInfo) -> usize {
    info.meta as *const _ as usize
}

/// Whether `name` means this function: its flow, its function name, or
/// `module::function`.
fn matches(info: &FunctionInfo, name: &str) -> bool {
    let meta = info.meta;
    name == meta.flow
        || name == meta.function
        || name
            .strip_prefix(meta.module)
            .and_then(|rest| rest.strip_prefix("::"))
            .is_some_and(|rest| rest == meta.function)
}

impl Flows {
    /// Every instrumented function, with its knobs.
    pub fn list(&self) -> Vec<FlowKnobs> {
        let mut all: Vec<FlowKnobs> = catalog().map(describe).collect();
        all.sort_by(|a, b| (a.flow, a.module, a.function).cmp(&(b.flow, b.module, b.function)));
        all
    }

    /// The functions `name` means (a flow, a function, or
    /// `module::function`).
    pub fn get(&self, name: &str) -> Vec<FlowKnobs> {
        self.list()
            .into_iter()
            .filter(|f| {
                name == f.flow
                    || name == f.function
                    || name == format!("{}::{}", f.module, f.function)
            })
            .collect()
    }

    /// Writes events down to `level` inside the spans of `name`'s
    /// functions (the code's own `debug!` lines included).
    pub fn set_verbosity(&self, name: &str, level: Level) -> Change {
        apply(name, Knob::Verbosity, |o| o.verbosity = Some(level))
    }

    /// Writes this fraction of the successful completion lines of `name`.
    pub fn set_sample(&self, name: &str, rate: f64) -> Change {
        apply(name, Knob::Sample, |o| {
            o.sample = Some(rate.clamp(0.0, 1.0))
        })
    }

    /// Calls of `name` slower than this are slow (logged at WARN, and they
    /// flush their trace's buffered lines).
    pub fn set_slow(&self, name: &str, threshold: Duration) -> Change {
        apply(name, Knob::Slow, |o| o.slow = Some(threshold))
    }

    /// Puts the code's values back for `name`.
    pub fn reset(&self, name: &str) {
        for knob in [Knob::Verbosity, Knob::Sample, Knob::Slow] {
            let _ = apply(name, knob, |o| clear(o, knob));
        }
    }
}

fn describe(info: &'static FunctionInfo) -> FlowKnobs {
    let meta = info.meta;
    let overrides = knobs::overrides(meta);
    FlowKnobs {
        flow: meta.flow,
        function: meta.function,
        module: meta.module,
        level: meta.level,
        verbosity: overrides.verbosity,
        sample: overrides.sample.or(meta.sample),
        slow: overrides.slow.or(meta.slow_us.map(Duration::from_micros)),
        overrides,
    }
}

fn clear(overrides: &mut Overrides, knob: Knob) {
    match knob {
        Knob::Verbosity => overrides.verbosity = None,
        Knob::Sample => overrides.sample = None,
        Knob::Slow => overrides.slow = None,
    }
}

fn apply(name: &str, knob: Knob, change: impl Fn(&mut Overrides)) -> Change {
    let mut generations = generations().lock().unwrap_or_else(|e| e.into_inner());
    let mut applied = Vec::new();
    for info in catalog().filter(|info| matches(info, name)) {
        let mut overrides = knobs::overrides(info.meta);
        change(&mut overrides);
        knobs::set_overrides(info.meta, overrides);
        let generation = generations.entry((key(info), knob)).or_default();
        *generation += 1;
        applied.push((info, knob, *generation));
    }
    drop(generations);
    if knob == Knob::Verbosity && !applied.is_empty() {
        // Callsites the filters had ruled out are asked again.
        tracing::callsite::rebuild_interest_cache();
    }
    Change { applied }
}

impl Change {
    /// How many functions the change applied to (0: the name matched none).
    pub fn matched(&self) -> usize {
        self.applied.len()
    }

    /// Puts the code's values back after `duration`, unless the knob was
    /// changed again in between.
    pub fn for_duration(self, duration: Duration) -> Self {
        if self.applied.is_empty() {
            return self;
        }
        let applied = self.applied.clone();
        let spawned = std::thread::Builder::new()
            .name("observe-knob-expiry".into())
            .spawn(move || {
                std::thread::sleep(duration);
                expire(&applied);
            });
        if spawned.is_err() {
            // No thread to wait with: do not leave a temporary change on.
            expire(&self.applied);
        }
        self
    }
}

fn expire(applied: &[(&'static FunctionInfo, Knob, u64)]) {
    let generations = generations().lock().unwrap_or_else(|e| e.into_inner());
    let mut verbosity = false;
    for &(info, knob, generation) in applied {
        if generations.get(&(key(info), knob)) != Some(&generation) {
            continue;
        }
        let mut overrides = knobs::overrides(info.meta);
        clear(&mut overrides, knob);
        knobs::set_overrides(info.meta, overrides);
        verbosity |= knob == Knob::Verbosity;
    }
    drop(generations);
    if verbosity {
        tracing::callsite::rebuild_interest_cache();
    }
}
