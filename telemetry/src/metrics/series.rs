//! One series' storage: lock-free counters, gauges and explicit-bucket
//! histograms, each with exemplar slots.
//!
//! An exemplar is written on the hot path at most once per
//! [`REPLACE_AFTER_MS`] per slot: a record reads two thread-local cells,
//! the coarse clock and the slot's age, and returns. A written exemplar is
//! only a candidate; [`ExemplarSlot::promote`] (run by the upkeep thread and
//! before each render) moves it to the exposition once its trace is known
//! to be kept, so the link on a dashboard always leads to a trace.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use metrics::{CounterFn, GaugeFn, HistogramFn};

use crate::exemplar_ids::{self, Ids};

/// A candidate stays this long before a newer call may replace it.
pub(crate) const REPLACE_AFTER_MS: u64 = 1000;
/// A candidate whose trace is still not known to be kept after this long is dropped.
const GIVE_UP_AFTER_MS: u64 = 30_000;

static COARSE_NOW_MS: AtomicU64 = AtomicU64::new(0);

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_millis() as u64)
}

/// Wall-clock milliseconds, refreshed by the upkeep thread (every 50 ms);
/// read from the system clock until that thread runs.
#[inline]
pub(crate) fn coarse_now_ms() -> u64 {
    match COARSE_NOW_MS.load(Ordering::Relaxed) {
        0 => wall_ms(),
        now => now,
    }
}

pub(crate) fn tick_clock() {
    COARSE_NOW_MS.store(wall_ms(), Ordering::Relaxed);
}

/// Where a series reads the ids of the call being recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdsSource {
    /// No exemplars (the guard's overflow series, the in-flight gauges).
    Off,
    /// The span entered on this thread: the `metrics` facade's user.
    Current,
    /// The span `#[observe]` has just exited: its own `flow_*` series.
    JustExited,
}

impl IdsSource {
    #[inline]
    fn ids(self) -> Ids {
        match self {
            IdsSource::Off => Ids::NONE,
            IdsSource::Current => exemplar_ids::current(),
            IdsSource::JustExited => exemplar_ids::just_exited_or_current(),
        }
    }
}

/// One exemplar: the call's ids, its value and when it was recorded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Exemplar {
    pub trace_id: u128,
    pub span_id: u64,
    pub sampled: bool,
    pub value: f64,
    pub at_ms: u64,
}

/// A candidate written lock-free by the hot path, and the promoted
/// exemplar the exposition shows.
#[derive(Debug, Default)]
pub(crate) struct ExemplarSlot {
    busy: AtomicBool,
    /// 0: empty.
    at_ms: AtomicU64,
    trace_hi: AtomicU64,
    trace_lo: AtomicU64,
    span: AtomicU64,
    value: AtomicU64,
    sampled: AtomicBool,
    promoted: Mutex<Option<Exemplar>>,
}

impl ExemplarSlot {
    #[inline]
    fn offer(&self, source: IdsSource, value: f64) {
        if source == IdsSource::Off {
            return;
        }
        let now = coarse_now_ms();
        let at = self.at_ms.load(Ordering::Relaxed);
        if at != 0 && now.saturating_sub(at) < REPLACE_AFTER_MS {
            return;
        }
        let ids = source.ids();
        if !ids.is_some() {
            return;
        }
        self.write(ids, value, now);
    }

    #[cold]
    fn write(&self, ids: Ids, value: f64, now: u64) {
        if self.busy.swap(true, Ordering::Acquire) {
            return;
        }
        self.trace_hi
            .store((ids.trace >> 64) as u64, Ordering::Relaxed);
        self.trace_lo.store(ids.trace as u64, Ordering::Relaxed);
        self.span.store(ids.span, Ordering::Relaxed);
        self.value.store(value.to_bits(), Ordering::Relaxed);
        self.sampled.store(ids.sampled, Ordering::Relaxed);
        self.at_ms.store(now.max(1), Ordering::Relaxed);
        self.busy.store(false, Ordering::Release);
    }

    /// Moves the candidate to the exposition when `kept` says its trace is
    /// kept; drops it when it waited too long.
    pub(crate) fn promote(&self, kept: &dyn Fn(&Exemplar) -> bool) {
        if self.at_ms.load(Ordering::Relaxed) == 0 || self.busy.swap(true, Ordering::Acquire) {
            return;
        }
        let at_ms = self.at_ms.load(Ordering::Relaxed);
        let candidate = Exemplar {
            trace_id: (u128::from(self.trace_hi.load(Ordering::Relaxed)) << 64)
                | u128::from(self.trace_lo.load(Ordering::Relaxed)),
            span_id: self.span.load(Ordering::Relaxed),
            sampled: self.sampled.load(Ordering::Relaxed),
            value: f64::from_bits(self.value.load(Ordering::Relaxed)),
            at_ms,
        };
        let outcome = if at_ms == 0 {
            None
        } else if kept(&candidate) {
            Some(true)
        } else if coarse_now_ms().saturating_sub(at_ms) > GIVE_UP_AFTER_MS {
            Some(false)
        } else {
            None
        };
        if outcome.is_some() {
            // Promoted or given up: the slot takes the next call at once.
            self.at_ms.store(0, Ordering::Relaxed);
        }
        self.busy.store(false, Ordering::Release);
        if outcome == Some(true) {
            *self
                .promoted
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(candidate);
        }
    }

    /// The exemplar the exposition shows.
    pub(crate) fn promoted(&self) -> Option<Exemplar> {
        *self
            .promoted
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A monotonic counter.
#[derive(Debug)]
pub(crate) struct CounterSeries {
    value: AtomicU64,
    pub exemplar: ExemplarSlot,
    source: IdsSource,
}

impl CounterSeries {
    pub fn new(source: IdsSource) -> Self {
        CounterSeries {
            value: AtomicU64::new(0),
            exemplar: ExemplarSlot::default(),
            source,
        }
    }

    pub fn get(&self) -> u64 {
        self.value.load(Ordering::Relaxed)
    }
}

impl CounterFn for CounterSeries {
    #[inline]
    fn increment(&self, value: u64) {
        self.value.fetch_add(value, Ordering::Relaxed);
        self.exemplar.offer(self.source, value as f64);
    }

    fn absolute(&self, value: u64) {
        self.value.fetch_max(value, Ordering::Relaxed);
    }
}

/// A gauge, as the bits of an `f64`.
#[derive(Debug, Default)]
pub(crate) struct GaugeSeries {
    bits: AtomicU64,
}

impl GaugeSeries {
    pub fn get(&self) -> f64 {
        f64::from_bits(self.bits.load(Ordering::Relaxed))
    }

    fn update(&self, f: impl Fn(f64) -> f64) {
        let _ = self
            .bits
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some(f(f64::from_bits(bits)).to_bits())
            });
    }
}

impl GaugeFn for GaugeSeries {
    fn increment(&self, value: f64) {
        self.update(|v| v + value);
    }

    fn decrement(&self, value: f64) {
        self.update(|v| v - value);
    }

    fn set(&self, value: f64) {
        self.bits.store(value.to_bits(), Ordering::Relaxed);
    }
}

/// An explicit-bucket histogram: per-bucket counts (not cumulative; the
/// last one is `+Inf`), the sum and one exemplar slot per bucket.
#[derive(Debug)]
pub(crate) struct HistogramSeries {
    pub bounds: Arc<[f64]>,
    counts: Box<[AtomicU64]>,
    sum: AtomicU64,
    count: AtomicU64,
    pub exemplars: Box<[ExemplarSlot]>,
    source: IdsSource,
}

/// What a render or an export reads of a histogram.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HistogramSnapshot {
    /// Per bucket, not cumulative; one more than the bounds.
    pub counts: Vec<u64>,
    pub sum: f64,
    pub count: u64,
}

impl HistogramSeries {
    pub fn new(bounds: Arc<[f64]>, source: IdsSource) -> Self {
        let buckets = bounds.len() + 1;
        HistogramSeries {
            bounds,
            counts: (0..buckets).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0f64.to_bits()),
            count: AtomicU64::new(0),
            exemplars: (0..buckets).map(|_| ExemplarSlot::default()).collect(),
            source,
        }
    }

    pub fn snapshot(&self) -> HistogramSnapshot {
        HistogramSnapshot {
            counts: self
                .counts
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .collect(),
            sum: f64::from_bits(self.sum.load(Ordering::Relaxed)),
            count: self.count.load(Ordering::Relaxed),
        }
    }
}

impl HistogramFn for HistogramSeries {
    #[inline]
    fn record(&self, value: f64) {
        // `le` is inclusive: the first bound at or above the value.
        let index = self
            .bounds
            .iter()
            .position(|b| value <= *b)
            .unwrap_or(self.bounds.len());
        self.counts[index].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        let _ = self
            .sum
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + value).to_bits())
            });
        self.exemplars[index].offer(self.source, value);
    }
}

/// A series beyond its metric's cap: the update goes to the overflow
/// series and is counted in `observe_metric_overflow_total`.
pub(crate) struct Folded<T> {
    pub into: Arc<T>,
    pub folded: Arc<CounterSeries>,
}

impl CounterFn for Folded<CounterSeries> {
    fn increment(&self, value: u64) {
        self.into.increment(value);
        self.folded.increment(1);
    }

    fn absolute(&self, value: u64) {
        self.into.absolute(value);
        self.folded.increment(1);
    }
}

impl GaugeFn for Folded<GaugeSeries> {
    fn increment(&self, value: f64) {
        self.into.increment(value);
        self.folded.increment(1);
    }

    fn decrement(&self, value: f64) {
        self.into.decrement(value);
        self.folded.increment(1);
    }

    fn set(&self, value: f64) {
        self.into.set(value);
        self.folded.increment(1);
    }
}

impl HistogramFn for Folded<HistogramSeries> {
    fn record(&self, value: f64) {
        self.into.record(value);
        self.folded.increment(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_inclusive_and_the_last_is_inf() {
        let h = HistogramSeries::new(Arc::from(vec![0.1, 1.0]), IdsSource::Off);
        for v in [0.05, 0.1, 0.5, 1.0, 7.0] {
            h.record(v);
        }
        let s = h.snapshot();
        assert_eq!(s.counts, vec![2, 2, 1]);
        assert_eq!(s.count, 5);
        assert!((s.sum - 8.65).abs() < 1e-9);
    }

    #[test]
    fn an_exemplar_is_shown_only_once_its_trace_is_kept() {
        let ids = Ids {
            trace: 0xabc,
            span: 0x12,
            sampled: false,
        };
        exemplar_ids::set_for_test(ids);
        let h = HistogramSeries::new(Arc::from(vec![1.0]), IdsSource::Current);
        h.record(0.5);
        h.exemplars[0].promote(&|_| false);
        assert_eq!(h.exemplars[0].promoted(), None);
        h.exemplars[0].promote(&|e| e.trace_id == 0xabc);
        let shown = h.exemplars[0].promoted().expect("promoted");
        assert_eq!(
            (shown.trace_id, shown.span_id, shown.value),
            (0xabc, 0x12, 0.5)
        );
        assert_eq!(h.exemplars[1].promoted(), None);
        exemplar_ids::set_for_test(Ids::NONE);
    }
}
