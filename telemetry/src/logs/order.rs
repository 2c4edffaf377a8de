//! The order a line's fragments are written in, worked out once per
//! sequence of keys.
//!
//! A line has one entry per key, the highest rank winning; the leading
//! keys come first in their fixed order, the rest in key order. The lines
//! of one call site inside the same spans carry the same keys with the
//! same ranks in the same sequence every time, so the order is kept per
//! thread, keyed by that sequence, and sorting happens only when a new
//! sequence shows up. Keys are `&'static str`: their address and length
//! stand for their text, and the sequence is compared in full before a
//! kept order is used.

use super::LEADING_KEYS;
use super::fields::Entry;

/// Orders kept per thread (direct-mapped by the sequence's hash).
const SLOTS: usize = 16;

/// One entry as the sequence is compared: the key's address and length,
/// and the rank.
type Signature = (usize, u32, u32);

fn signature(entry: &Entry) -> Signature {
    (
        entry.key.as_ptr() as usize,
        entry.key.len() as u32,
        entry.rank,
    )
}

#[derive(Default)]
struct Plan {
    signature: Vec<Signature>,
    /// Indices into the entries, in the order they are written.
    order: Vec<u32>,
}

/// The orders kept for the sequences seen on this thread.
#[derive(Default)]
pub(crate) struct Plans {
    slots: Vec<Plan>,
    /// Room for sorting a new sequence.
    scratch: Vec<u32>,
}

impl Plans {
    /// The order to write `entries` in: indices into `entries`, one per
    /// key.
    pub(crate) fn order(&mut self, entries: &[Entry]) -> &[u32] {
        if self.slots.is_empty() {
            self.slots.resize_with(SLOTS, Plan::default);
        }
        let hash = entries.iter().fold(entries.len() as u64, |hash, entry| {
            let (address, len, rank) = signature(entry);
            (hash.rotate_left(5) ^ address as u64 ^ u64::from(len) << 48 ^ u64::from(rank))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
        });
        let plan = &mut self.slots[(hash >> 60) as usize % SLOTS];
        let known = plan.signature.len() == entries.len()
            && plan
                .signature
                .iter()
                .zip(entries)
                .all(|(kept, entry)| *kept == signature(entry));
        if !known {
            plan.signature.clear();
            plan.signature.extend(entries.iter().map(signature));
            work_out(entries, &mut plan.order, &mut self.scratch);
        }
        &plan.order
    }
}

/// Works the order out: the leading keys take their slots (the highest
/// rank winning, the first on a tie); the rest are sorted by key and rank,
/// and the last (highest rank) of each key is kept.
fn work_out(entries: &[Entry], order: &mut Vec<u32>, rest: &mut Vec<u32>) {
    let mut leading: [Option<u32>; LEADING_KEYS.len()] = [None; LEADING_KEYS.len()];
    rest.clear();
    for (index, entry) in entries.iter().enumerate() {
        let index = index as u32;
        match leading.get_mut(usize::from(entry.leading)) {
            Some(slot) => {
                if slot.is_none_or(|held| entries[held as usize].rank < entry.rank) {
                    *slot = Some(index);
                }
            }
            None => rest.push(index),
        }
    }
    rest.sort_by(|a, b| Entry::order(&entries[*a as usize], &entries[*b as usize]));
    order.clear();
    order.extend(leading.iter().flatten());
    for (at, &index) in rest.iter().enumerate() {
        let next = rest.get(at + 1).map(|&next| entries[next as usize].key);
        if next != Some(entries[index as usize].key) {
            order.push(index);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdicts::of_static_name;

    fn entry(key: &'static str, rank: u32) -> Entry {
        let known = of_static_name(key);
        Entry {
            key,
            prefix: known.prefix,
            leading: known.leading,
            start: 0,
            end: 0,
            value_at: 0,
            rank,
        }
    }

    fn keys(entries: &[Entry], order: &[u32]) -> Vec<(&'static str, u32)> {
        order
            .iter()
            .map(|&index| {
                let entry = entries[index as usize];
                (entry.key, entry.rank)
            })
            .collect()
    }

    #[test]
    fn leading_keys_first_then_the_rest_by_key_the_highest_rank_winning() {
        let entries = [
            entry("service", 0),
            entry("timestamp", 1),
            entry("zeta", 2),
            entry("message", 2),
            entry("alpha_long_key_b", 2),
            entry("alpha_long_key_a", 5),
            entry("alpha_long_key_a", 7),
            entry("zeta", 3),
            entry("message", 1),
            entry("trace_id", u32::MAX),
        ];
        let mut plans = Plans::default();
        let expected = vec![
            ("timestamp", 1),
            ("message", 2),
            ("service", 0),
            ("trace_id", u32::MAX),
            ("alpha_long_key_a", 7),
            ("alpha_long_key_b", 2),
            ("zeta", 3),
        ];
        // Worked out, then kept: the same answer both times.
        for _ in 0..2 {
            let order = plans.order(&entries).to_vec();
            assert_eq!(keys(&entries, &order), expected);
        }
        // Another sequence of the same keys is worked out afresh.
        let mut other = entries;
        other.swap(2, 7);
        other[7].rank = 9;
        let order = plans.order(&other).to_vec();
        assert_eq!(keys(&other, &order)[6], ("zeta", 9));
    }
}
