//! The compile-time cardinality budget. Generated code evaluates
//! [`check`] in a constant, so a function whose labels could create too
//! many series fails to build, with a message naming each label.

use crate::outcome::{OUTCOME_COUNT as OUTCOMES, OUTCOME_NAMES};

/// Panics (at compile time, in a constant) when the labels' cardinalities
/// times the [`OUTCOMES`] exceed `max_series`.
pub const fn check(function: &str, keys: &[&str], cardinalities: &[usize], max_series: usize) {
    let mut product = OUTCOMES;
    let mut i = 0;
    while i < cardinalities.len() {
        product = product.saturating_mul(cardinalities[i]);
        i += 1;
    }
    if product <= max_series {
        return;
    }
    let mut message = Message::new();
    message.push("metric label budget exceeded in `");
    message.push(function);
    message.push("`: ");
    let mut i = 0;
    while i < keys.len() {
        message.push(keys[i]);
        message.push(" (");
        message.push_number(cardinalities[i]);
        message.push(" values) x ");
        i += 1;
    }
    message.push("outcome (");
    message.push_number(OUTCOME_NAMES.len());
    message.push(" values) = ");
    message.push_number(product);
    message.push(" series, over the budget of ");
    message.push_number(max_series);
    message.push(
        "; use labels with fewer values, move a label to `fields(...)` (span and log fields may have any cardinality), \
         or raise the budget with `max_series = N`",
    );
    panic!("{}", message.as_str());
}

/// The number of series a set of label cardinalities gives, outcomes excluded.
pub const fn combinations(cardinalities: &[usize]) -> usize {
    let mut product = 1usize;
    let mut i = 0;
    while i < cardinalities.len() {
        product = product.saturating_mul(cardinalities[i]);
        i += 1;
    }
    product
}

/// How many `error_kind` values a function's budget leaves room for once
/// its label combinations are counted.
pub const fn error_room(cardinalities: &[usize], max_series: usize) -> usize {
    max_series / combinations(cardinalities)
}

/// A fixed buffer to build a message in a constant.
struct Message {
    bytes: [u8; 1024],
    len: usize,
}

impl Message {
    const fn new() -> Self {
        Message {
            bytes: [0; 1024],
            len: 0,
        }
    }

    const fn push(&mut self, text: &str) {
        let text = text.as_bytes();
        let mut i = 0;
        while i < text.len() && self.len < self.bytes.len() {
            self.bytes[self.len] = text[i];
            self.len += 1;
            i += 1;
        }
    }

    const fn push_number(&mut self, mut n: usize) {
        let mut digits = [0u8; 20];
        let mut count = 0;
        loop {
            digits[count] = b'0' + (n % 10) as u8;
            n /= 10;
            count += 1;
            if n == 0 {
                break;
            }
        }
        while count > 0 && self.len < self.bytes.len() {
            count -= 1;
            self.bytes[self.len] = digits[count];
            self.len += 1;
        }
    }

    const fn as_str(&self) -> &str {
        // Only whole UTF-8 strings are pushed, but a full buffer may cut one.
        let (mut bytes, _) = self.bytes.split_at(self.len);
        loop {
            match core::str::from_utf8(bytes) {
                Ok(text) => return text,
                Err(_) => bytes = bytes.split_at(bytes.len() - 1).0,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_budget_passes() {
        check("f", &["a", "b"], &[4, 16], 256);
        assert_eq!(combinations(&[4, 16]), 64);
    }

    #[test]
    #[should_panic(
        expected = "region (8 values) x tier (10 values) x outcome (4 values) = 320 series, over the budget of 256"
    )]
    fn over_budget_names_each_label() {
        check("checkout", &["region", "tier"], &[8, 10], 256);
    }
}
