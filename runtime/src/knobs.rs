//! Run-time overrides of a function's `sample`, `slow` and `verbosity`,
//! keyed by the function's `SiteMeta` static (the one the catalog lists).
//!
//! The hot path pays one atomic load while nothing is overridden
//! (`ACTIVE` is zero); only then is the table read. The telemetry's
//! `observe::flows()` sets and expires these; the completion line reads
//! `sample` and `slow` here, the log output reads `verbosity`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{OnceLock, RwLock};
use std::time::Duration;

use tracing::{Level, Span};

use crate::site::SiteMeta;

/// "No override": the code's value is used.
const UNSET: u64 = u64::MAX;

/// One function's overrides; each an atomic.
struct Knobs {
    meta: &'static SiteMeta,
    /// `f64` bits, or [`UNSET`].
    sample: AtomicU64,
    /// Microseconds, or [`UNSET`].
    slow_us: AtomicU64,
    /// 0: unset; 1 (ERROR) to 5 (TRACE).
    verbosity: AtomicU8,
}

impl Knobs {
    fn any_set(&self) -> bool {
        self.sample.load(Ordering::Relaxed) != UNSET
            || self.slow_us.load(Ordering::Relaxed) != UNSET
            || self.verbosity.load(Ordering::Relaxed) != 0
    }
}

/// How many functions have at least one override.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);
/// How many functions have a verbosity override.
static VERBOSE: AtomicUsize = AtomicUsize::new(0);
/// The most verbose override in force (0 when none).
static MAX_VERBOSITY: AtomicU8 = AtomicU8::new(0);

fn table() -> &'static RwLock<HashMap<usize, &'static Knobs>> {
    static TABLE: OnceLock<RwLock<HashMap<usize, &'static Knobs>>> = OnceLock::new();
    TABLE.get_or_init(Default::default)
}

fn key(meta: &'static SiteMeta) -> usize {
    meta as *const SiteMeta as usize
}

#[inline]
fn lookup(meta: &'static SiteMeta) -> Option<&'static Knobs> {
    if ACTIVE.load(Ordering::Relaxed) == 0 {
        return None;
    }
    let table = table().read().unwrap_or_else(|e| e.into_inner());
    table.get(&key(meta)).copied()
}

fn level_code(level: Level) -> u8 {
    match level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

fn code_level(code: u8) -> Option<Level> {
    Some(match code {
        1 => Level::ERROR,
        2 => Level::WARN,
        3 => Level::INFO,
        4 => Level::DEBUG,
        5 => Level::TRACE,
        _ => return None,
    })
}

/// The current overrides of one function (`None`: the code's value).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Overrides {
    /// The lowest level of events written inside the function's spans.
    pub verbosity: Option<Level>,
    /// The fraction of successful, fast completion lines written.
    pub sample: Option<f64>,
    /// The slow-call threshold.
    pub slow: Option<Duration>,
}

/// The overrides in force for `meta`.
pub fn overrides(meta: &'static SiteMeta) -> Overrides {
    let Some(knobs) = lookup(meta) else {
        return Overrides::default();
    };
    let sample = knobs.sample.load(Ordering::Relaxed);
    let slow = knobs.slow_us.load(Ordering::Relaxed);
    Overrides {
        verbosity: code_level(knobs.verbosity.load(Ordering::Relaxed)),
        sample: (sample != UNSET).then(|| f64::from_bits(sample)),
        slow: (slow != UNSET).then(|| Duration::from_micros(slow)),
    }
}

/// Replaces the overrides of `meta` (`None` fields return to the code's
/// values).
pub fn set_overrides(meta: &'static SiteMeta, overrides: Overrides) {
    let mut table = table().write().unwrap_or_else(|e| e.into_inner());
    let knobs = *table.entry(key(meta)).or_insert_with(|| {
        Box::leak(Box::new(Knobs {
            meta,
            sample: AtomicU64::new(UNSET),
            slow_us: AtomicU64::new(UNSET),
            verbosity: AtomicU8::new(0),
        }))
    });
    knobs.sample.store(
        overrides
            .sample
            .map_or(UNSET, |rate| rate.clamp(0.0, 1.0).to_bits()),
        Ordering::Relaxed,
    );
    knobs.slow_us.store(
        overrides
            .slow
            .map_or(UNSET, |slow| (slow.as_micros() as u64).min(UNSET - 1)),
        Ordering::Relaxed,
    );
    knobs
        .verbosity
        .store(overrides.verbosity.map_or(0, level_code), Ordering::Relaxed);
    // Recount under the write lock: the counters only gate the fast path.
    let active = table.values().filter(|k| k.any_set()).count();
    let verbose: Vec<u8> = table
        .values()
        .map(|k| k.verbosity.load(Ordering::Relaxed))
        .filter(|&v| v != 0)
        .collect();
    VERBOSE.store(verbose.len(), Ordering::Relaxed);
    MAX_VERBOSITY.store(verbose.into_iter().max().unwrap_or(0), Ordering::Relaxed);
    ACTIVE.store(active, Ordering::Release);
}

/// The sampling rate in force for `meta`: the override, else the code's.
#[inline]
pub(crate) fn sample(meta: &'static SiteMeta) -> Option<f64> {
    match lookup(meta).map(|k| k.sample.load(Ordering::Relaxed)) {
        Some(bits) if bits != UNSET => Some(f64::from_bits(bits)),
        _ => meta.sample,
    }
}

/// The slow threshold in force for `meta`, in microseconds.
#[inline]
pub(crate) fn slow_us(meta: &'static SiteMeta) -> Option<u64> {
    match lookup(meta).map(|k| k.slow_us.load(Ordering::Relaxed)) {
        Some(us) if us != UNSET => Some(us),
        _ => meta.slow_us,
    }
}

/// The most verbose level any function is overridden to, if any: the log
/// output lets events of that level reach it while this is set.
pub fn max_verbosity() -> Option<Level> {
    if VERBOSE.load(Ordering::Relaxed) == 0 {
        return None;
    }
    code_level(MAX_VERBOSITY.load(Ordering::Relaxed))
}

/// The verbosity override of the function whose span has this target
/// (module) and name, if any. Cheap when no verbosity is overridden.
pub fn verbosity_of_span(target: &str, name: &str) -> Option<Level> {
    if VERBOSE.load(Ordering::Relaxed) == 0 {
        return None;
    }
    let table = table().read().unwrap_or_else(|e| e.into_inner());
    table.values().find_map(|knobs| {
        let level = code_level(knobs.verbosity.load(Ordering::Relaxed))?;
        let meta = knobs.meta;
        let same_name = name == meta.function
            || (meta.qualified_at_runtime
                && name
                    .strip_suffix(meta.function)
                    .is_some_and(|head| head.ends_with("::")));
        (target == meta.module && same_name).then_some(level)
    })
}

/// A successful completion line that sampling dropped, handed to the log
/// output so it can keep it for its trace without formatting it now.
#[derive(Debug)]
pub struct SampledOut<'a> {
    /// The call's span (enter it, or look its trace up).
    pub span: &'a Span,
    /// The function.
    pub meta: &'static SiteMeta,
    /// The function's name (`Type::method` for qualified methods).
    pub function: &'static str,
    /// The call's duration, milliseconds.
    pub duration_ms: f64,
    /// `Some(false)` when the function has a slow threshold.
    pub slow: Option<bool>,
    /// The rendered `ret` value, with `ret`.
    pub ret: Option<&'a str>,
}

/// Receives the completion lines sampling drops.
pub type SampledOutHook = fn(&SampledOut<'_>);

static SAMPLED_OUT_HOOK: OnceLock<SampledOutHook> = OnceLock::new();

/// Installs the receiver of dropped completion lines (the first call wins).
pub fn set_sampled_out_hook(hook: SampledOutHook) {
    let _ = SAMPLED_OUT_HOOK.set(hook);
}

#[inline]
pub(crate) fn sampled_out(line: &SampledOut<'_>) {
    if let Some(hook) = SAMPLED_OUT_HOOK.get() {
        hook(line);
    }
}
