//! Per-trace sampling of successful completion lines: one request's lines
//! are kept or dropped together.
//!
//! Each trace gets one uniform number in [0, 1), and a line is kept when it
//! is below the function's rate, so a trace kept at 10% is also kept by
//! every function sampling at 10% or more. The number comes from the trace
//! id when a trace-id source is installed (`observe::init` installs the
//! OpenTelemetry one, so services agree), else it is drawn once for the
//! trace's root span and stored on it.

use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

use tracing::Span;
use tracing_subscriber::registry::{LookupSpan, Registry};

/// Maps a span to its trace's id, when the process has one (OpenTelemetry).
pub type TraceIdSource = fn(&Span) -> Option<u128>;

static TRACE_ID_SOURCE: OnceLock<TraceIdSource> = OnceLock::new();

/// Installs the trace-id source used for sampling decisions. The first
/// call wins.
pub fn set_trace_id_source(source: TraceIdSource) {
    let _ = TRACE_ID_SOURCE.set(source);
}

/// The sampling number stored on a root span.
struct TraceDraw(f64);

/// Whether a line of the trace `span` belongs to is kept at `rate`.
pub fn keep(rate: f64, span: &Span) -> bool {
    if rate >= 1.0 {
        return true;
    }
    if rate <= 0.0 {
        return false;
    }
    draw(span) < rate
}

fn draw(span: &Span) -> f64 {
    if let Some(source) = TRACE_ID_SOURCE.get()
        && let Some(trace_id) = source(span)
    {
        // The low 64 bits of a W3C trace id are random.
        return unit_interval(trace_id as u64);
    }
    root_draw(span).unwrap_or_else(|| unit_interval(random_u64()))
}

/// The number stored on the trace's root span, drawn at first use.
fn root_draw(span: &Span) -> Option<f64> {
    let id = span.id()?;
    tracing::dispatcher::get_default(|dispatch| {
        let registry = dispatch.downcast_ref::<Registry>()?;
        let span = registry.span(&id)?;
        let root = span.scope().from_root().next()?;
        let mut extensions = root.extensions_mut();
        if let Some(TraceDraw(value)) = extensions.get_mut::<TraceDraw>() {
            return Some(*value);
        }
        let value = unit_interval(random_u64());
        extensions.insert(TraceDraw(value));
        Some(value)
    })
}

fn unit_interval(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

fn random_u64() -> u64 {
    thread_local! {
        static STATE: std::cell::Cell<u64> = std::cell::Cell::new(
            std::collections::hash_map::RandomState::new().build_hasher().finish() | 1
        );
    }
    // xorshift64*: cheap, and good enough to pick lines.
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}
