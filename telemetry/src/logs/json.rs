//! The JSON a log line is written with: strings, keys and integers written
//! straight into a byte buffer, byte for byte what serde_json writes, with
//! the common cases (nothing to escape, a plain integer) short-circuited.

/// Whether serde_json would escape this byte in a string: control
/// characters, `"` and `\` (it leaves DEL and non-ASCII as they are).
#[inline]
fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// Writes `text` as a JSON string.
#[inline]
pub(crate) fn write_str(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    if bytes.iter().any(|&byte| needs_escape(byte)) {
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, text);
        return;
    }
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    out.extend_from_slice(bytes);
    out.push(b'"');
}

/// Whether a key can be written between quotes as it is.
pub(crate) fn is_plain(key: &str) -> bool {
    !key.bytes().any(needs_escape)
}

/// Writes `"key":` (`plain`: known to need no escaping).
#[inline]
pub(crate) fn write_key(out: &mut Vec<u8>, key: &str, plain: bool) {
    if plain {
        out.reserve(key.len() + 3);
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
    } else {
        write_str(out, key);
        out.push(b':');
    }
}

/// Writes an unsigned integer in decimal (what `Display` writes).
#[inline]
pub(crate) fn write_u64(out: &mut Vec<u8>, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Writes a signed integer in decimal (what `Display` writes).
#[inline]
pub(crate) fn write_i64(out: &mut Vec<u8>, value: i64) {
    if value < 0 {
        out.push(b'-');
    }
    write_u64(out, value.unsigned_abs());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        for text in [
            "",
            "call completed",
            "quote \" backslash \\ newline \n bell \u{7} del \u{7f} é ✓",
            "\u{1f}",
        ] {
            let mut out = Vec::new();
            write_str(&mut out, text);
            assert_eq!(out, serde_json::to_vec(text).unwrap(), "{text:?}");
        }
    }

    #[test]
    fn integers_are_written_as_display_writes_them() {
        for value in [0, 1, 9, 10, 4111111111111111, u64::MAX] {
            let mut out = Vec::new();
            write_u64(&mut out, value);
            assert_eq!(out, value.to_string().into_bytes());
        }
        for value in [0, -1, 12, -1234567890123, i64::MIN, i64::MAX] {
            let mut out = Vec::new();
            write_i64(&mut out, value);
            assert_eq!(out, value.to_string().into_bytes());
        }
    }

    #[test]
    fn keys_are_quoted_and_escaped() {
        let mut out = Vec::new();
        write_key(&mut out, "flow", true);
        write_key(&mut out, "a\"b", false);
        assert_eq!(out, br#""flow":"a\"b":"#);
        assert!(is_plain("code.namespace"));
        assert!(!is_plain("a\"b"));
    }
}
