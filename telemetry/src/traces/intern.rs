//! Shared copies of short field texts. The texts of an annotated function's
//! span and completion event repeat call after call (its flow, function,
//! module, outcome); an attribute value needs an owned text, and a cache of
//! shared copies turns an allocation, a copy and a free per text into a
//! hash, a compare and two reference counts.
//!
//! Per thread, direct-mapped (a text replaces the one in its slot), so it is
//! bounded: at most `SLOTS` texts of at most `MAX_LEN` bytes per thread. It
//! keeps texts in memory only, never outputs them.

use std::cell::RefCell;
use std::sync::Arc;

use opentelemetry::{StringValue, Value};

const SLOTS: usize = 64;
/// Longer texts are rarely repeated: copied, not cached.
const MAX_LEN: usize = 64;

thread_local! {
    static CACHE: RefCell<[Option<Arc<str>>; SLOTS]> = const { RefCell::new([const { None }; SLOTS]) };
}

/// A quick, non-cryptographic hash of a short text (eight bytes a step).
fn slot(text: &str) -> usize {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let bytes = text.as_bytes();
    let mut hash = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        hash = (hash.rotate_left(5) ^ word).wrapping_mul(K);
    }
    // The last bytes, without a call to `memcpy`.
    let tail = chunks
        .remainder()
        .iter()
        .fold(0u64, |word, &byte| (word << 8) | u64::from(byte));
    hash = (hash.rotate_left(5) ^ tail).wrapping_mul(K);
    (hash >> 58) as usize % SLOTS
}

/// `text` as an attribute value, shared with earlier equal texts.
pub(crate) fn text(text: &str) -> Value {
    if text.len() > MAX_LEN {
        return Value::String(text.to_owned().into());
    }
    let at = slot(text);
    let shared = CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        match &cache[at] {
            Some(cached) if **cached == *text => cached.clone(),
            _ => {
                let fresh: Arc<str> = Arc::from(text);
                cache[at] = Some(fresh.clone());
                fresh
            }
        }
    });
    Value::String(StringValue::from(shared))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_keep_their_value_through_the_cache() {
        let a = text("checkout");
        let b = text(&String::from("checkout"));
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "checkout");
        let c = text("refund");
        assert_eq!(c.as_str(), "refund");
        assert_eq!(text("checkout").as_str(), "checkout");
        let long = "x".repeat(MAX_LEN + 1);
        assert_eq!(text(&long).as_str(), long);
        assert_eq!(text("").as_str(), "");
        // Two texts of one slot replace each other, and stay themselves.
        let first = "flow-0".to_owned();
        let other = (1..10_000)
            .map(|i| format!("flow-{i}"))
            .find(|t| slot(t) == slot(&first))
            .expect("64 slots: a collision within 10,000 texts");
        for _ in 0..3 {
            assert_eq!(text(&first).as_str(), first);
            assert_eq!(text(&other).as_str(), other);
        }
    }
}
