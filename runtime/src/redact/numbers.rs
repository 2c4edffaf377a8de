//! Numbers that are secrets by their checksum: card numbers (issuer prefix
//! and Luhn), US social security numbers, IBANs (mod 97).

/// The most digits a card number has.
const MAX_CARD_DIGITS: usize = 19;
/// The fewest digits a card number has.
const MIN_CARD_DIGITS: usize = 13;

/// Whether `value` is a card number: 13 to 19 digits, a card issuer's
/// prefix, and a valid Luhn check digit. For integers recorded as
/// themselves (`card: u64`), which no text scrubber sees.
pub fn is_card_number(value: u128) -> bool {
    // Most integers have too few digits (or too many): decided without
    // the digits. The rest fit a u64, whose division is cheap.
    let fewest = 10u128.pow(MIN_CARD_DIGITS as u32 - 1);
    let most = 10u128.pow(MAX_CARD_DIGITS as u32);
    if !(fewest..most).contains(&value) {
        return false;
    }
    let mut digits = [0u8; MAX_CARD_DIGITS];
    let mut len = 0;
    let mut rest = value as u64;
    loop {
        digits[len] = (rest % 10) as u8;
        len += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let digits = &mut digits[..len];
    digits.reverse();
    is_card_digits(digits)
}

fn is_card_digits(digits: &[u8]) -> bool {
    (MIN_CARD_DIGITS..=MAX_CARD_DIGITS).contains(&digits.len())
        && has_issuer_prefix(digits)
        && luhn_valid(digits)
}

/// Whether the number starts like a card of a known scheme: Visa (4),
/// Mastercard (51–55, 2221–2720), Maestro (50, 56–58, 6x), Mir (2200–2204),
/// American Express (34, 37), Diners (300–305, 36, 38, 39), JCB
/// (3528–3589), Discover (6011, 644–649, 65), UnionPay (62). Timestamps
/// and most ids start with 1 and are not card numbers.
fn has_issuer_prefix(digits: &[u8]) -> bool {
    let prefix = |n: usize| {
        digits[..n]
            .iter()
            .fold(0u32, |acc, &d| acc * 10 + u32::from(d))
    };
    match digits[0] {
        4 | 6 => true,
        5 => digits[1] <= 8,
        2 => (2221..=2720).contains(&prefix(4)) || (2200..=2204).contains(&prefix(4)),
        3 => {
            matches!(prefix(2), 34 | 36 | 37 | 38 | 39)
                || (300..=305).contains(&prefix(3))
                || (3528..=3589).contains(&prefix(4))
        }
        _ => false,
    }
}

fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(n, &d)| {
            let d = u32::from(d);
            if n % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A card number or an SSN starting at the digit `i`: its end.
pub(super) fn card_or_ssn_at(bytes: &[u8], i: usize) -> Option<usize> {
    // The fraction digits of a decimal (`18.4111111111111111`) and the
    // tail of a longer digit run are not numbers of their own.
    if i >= 1 && bytes[i - 1].is_ascii_digit() {
        return None;
    }
    if i >= 2 && matches!(bytes[i - 1], b'.' | b'-') && bytes[i - 2].is_ascii_digit() {
        return None;
    }
    ssn_at(bytes, i).or_else(|| card_at(bytes, i))
}

/// Digit groups separated by spaces (one or several), a dash or a dot, as
/// cards are printed: `4111111111111111`, `4111 1111 1111 1111`,
/// `4111-1111-1111-1111`, `4111.1111.1111.1111`, `3782 822463 10005`. The
/// longest run of whole groups that is a card number wins, so a card next
/// to other digits is still found.
fn card_at(bytes: &[u8], i: usize) -> Option<usize> {
    let mut digits = [0u8; MAX_CARD_DIGITS];
    let mut count = 0;
    // (end in bytes, digits so far) at the end of each group.
    let mut group_ends = [(0usize, 0usize); MAX_CARD_DIGITS];
    let mut groups = 0;
    let mut pos = i;
    loop {
        let len = bytes[pos..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        // A group longer than a card, or a short group after the first, ends the number.
        if count + len > MAX_CARD_DIGITS || (groups > 0 && len < 3) {
            // A longer digit run (an id, a timestamp) is not a card number.
            if groups == 0 {
                return None;
            }
            break;
        }
        for (slot, &b) in digits[count..].iter_mut().zip(&bytes[pos..pos + len]) {
            *slot = b - b'0';
        }
        count += len;
        pos += len;
        group_ends[groups] = (pos, count);
        groups += 1;
        let separator = match bytes.get(pos) {
            Some(b' ') => bytes[pos..]
                .iter()
                .take_while(|&&b| b == b' ')
                .count()
                .min(4),
            Some(b'-' | b'.') => 1,
            _ => break,
        };
        if !bytes.get(pos + separator).is_some_and(u8::is_ascii_digit) {
            break;
        }
        pos += separator;
    }
    let (last_end, _) = group_ends[groups - 1];
    // Digits glued to letters (a hex string) are not a card number.
    let glued = bytes.get(last_end).is_some_and(u8::is_ascii_alphanumeric);
    group_ends[..groups]
        .iter()
        .rev()
        .filter(|&&(end, _)| end != last_end || !glued)
        .find(|&&(_, n)| is_card_digits(&digits[..n]))
        .map(|&(end, _)| end)
}

/// `AAA-GG-SSSS` with a valid area (not 000, 666 or 9xx), group and serial.
fn ssn_at(bytes: &[u8], i: usize) -> Option<usize> {
    let s = bytes.get(i..i + 11)?;
    let shape = s.iter().enumerate().all(|(n, &b)| {
        if n == 3 || n == 6 {
            b == b'-'
        } else {
            b.is_ascii_digit()
        }
    });
    if !shape
        || bytes
            .get(i + 11)
            .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return None;
    }
    let valid = &s[..3] != b"000"
        && &s[..3] != b"666"
        && s[0] != b'9'
        && &s[4..6] != b"00"
        && &s[7..] != b"0000";
    valid.then_some(i + 11)
}

/// The most characters an IBAN has.
const MAX_IBAN: usize = 34;
/// The fewest (Norway).
const MIN_IBAN: usize = 15;

/// An IBAN starting at `i` (`DE89370400440532013000`, also grouped by
/// single spaces): two letters, two check digits, the account, and a
/// valid mod-97 checksum. Its end.
pub(super) fn iban_at(bytes: &[u8], i: usize) -> Option<usize> {
    let head = bytes.get(i..i + 4)?;
    if !(head[0].is_ascii_uppercase()
        && head[1].is_ascii_uppercase()
        && head[2].is_ascii_digit()
        && head[3].is_ascii_digit())
    {
        return None;
    }
    let mut chars = [0u8; MAX_IBAN];
    let mut count = 0;
    let mut group_ends = [(0usize, 0usize); MAX_IBAN];
    let mut groups = 0;
    let mut pos = i;
    loop {
        let len = bytes[pos..]
            .iter()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            .count();
        if len == 0 || count + len > MAX_IBAN {
            break;
        }
        chars[count..count + len].copy_from_slice(&bytes[pos..pos + len]);
        count += len;
        pos += len;
        group_ends[groups] = (pos, count);
        groups += 1;
        if bytes.get(pos) != Some(&b' ') {
            break;
        }
        pos += 1;
    }
    if groups == 0 {
        return None;
    }
    let (last_end, _) = group_ends[groups - 1];
    let glued = bytes.get(last_end).is_some_and(u8::is_ascii_alphanumeric);
    group_ends[..groups]
        .iter()
        .rev()
        .filter(|&&(end, n)| n >= MIN_IBAN && (end != last_end || !glued))
        .find(|&&(_, n)| iban_checksum_valid(&chars[..n]))
        .map(|&(end, _)| end)
}

/// ISO 13616: move the first four characters to the end, read letters as
/// 10–35, and the number modulo 97 is 1.
fn iban_checksum_valid(chars: &[u8]) -> bool {
    let rearranged = chars[4..].iter().chain(&chars[..4]);
    let mut remainder = 0u32;
    for &c in rearranged {
        remainder = if c.is_ascii_digit() {
            (remainder * 10 + u32::from(c - b'0')) % 97
        } else {
            (remainder * 100 + u32::from(c - b'A' + 10)) % 97
        };
    }
    remainder == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_card_numbers() {
        assert!(is_card_number(4111111111111111));
        assert!(is_card_number(5555555555554444));
        assert!(is_card_number(378282246310005));
        assert!(is_card_number(6011111111111117));
        assert!(!is_card_number(4111111111111112), "Luhn fails");
        assert!(!is_card_number(1733000000000), "a Unix time in ms");
        assert!(!is_card_number(1733000000000000000), "a Unix time in ns");
        assert!(!is_card_number(42));
        assert!(!is_card_number(u128::MAX));
        // The shortest and the longest cards, and one digit past each.
        assert!(is_card_number(4222222222222), "13 digits");
        assert!(is_card_number(4000000000000000006), "19 digits");
        assert!(!is_card_number(422222222222), "12 digits");
        assert!(!is_card_number(40000000000000000060), "20 digits");
    }

    #[test]
    fn ibans() {
        for iban in [
            "DE89370400440532013000",
            "GB82 WEST 1234 5698 7654 32",
            "NO9386011117947",
        ] {
            assert_eq!(iban_at(iban.as_bytes(), 0), Some(iban.len()), "{iban}");
        }
        assert_eq!(
            iban_at(b"DE89370400440532013001", 0),
            None,
            "checksum fails"
        );
        assert_eq!(iban_at(b"DE89 3704 0044 0532 0130 00 EUR", 0), Some(27));
    }

    #[test]
    fn ssns() {
        assert_eq!(card_or_ssn_at(b"123-45-6789", 0), Some(11));
        assert_eq!(card_or_ssn_at(b"000-45-6789", 0), None);
        assert_eq!(card_or_ssn_at(b"2026-12-01", 0), None);
    }
}
