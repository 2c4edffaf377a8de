//! Keeping secrets out of telemetry: the `Sensitive<T>` wrapper, and the
//! scrubber every recorded text passes through before it reaches a span or
//! an event (where every layer, including exporters, would see it).

use std::borrow::Cow;
use std::fmt;

use observe_attr::names::is_secret_name;

/// What a secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// The longest text recorded for one value, in bytes; longer text is cut
/// at a character boundary and ends with `…`.
pub const MAX_TEXT_LEN: usize = 512;

/// A value that must never appear in telemetry: its `Debug` and `Display`
/// print `[REDACTED]`. Read it with [`Sensitive::expose`].
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    /// Wraps a secret.
    pub const fn new(value: T) -> Self {
        Sensitive(value)
    }

    /// The secret itself, for the code that needs it.
    pub const fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the secret.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Sensitive<T> {
    fn from(value: T) -> Self {
        Sensitive(value)
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Formats `value` with `Debug`, scrubbed and cut to [`MAX_TEXT_LEN`].
pub fn debug_text<T: fmt::Debug + ?Sized>(value: &T) -> String {
    capped(format_args!("{value:?}"))
}

/// Formats `value` with `Display`, scrubbed and cut to [`MAX_TEXT_LEN`].
pub fn display_text<T: fmt::Display + ?Sized>(value: &T) -> String {
    capped(format_args!("{value}"))
}

/// Formats into a buffer that stops growing past twice the limit (so a huge
/// value is never formatted whole), then scrubs and truncates.
fn capped(args: fmt::Arguments<'_>) -> String {
    let mut buffer = CappedWriter {
        text: String::new(),
        limit: MAX_TEXT_LEN * 2,
    };
    // An error here only means the buffer is full.
    let _ = fmt::write(&mut buffer, args);
    let scrubbed = match scrub(&buffer.text) {
        Cow::Borrowed(_) => buffer.text,
        Cow::Owned(text) => text,
    };
    truncate(scrubbed)
}

struct CappedWriter {
    text: String,
    limit: usize,
}

impl fmt::Write for CappedWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.limit.saturating_sub(self.text.len());
        if s.len() <= room {
            self.text.push_str(s);
            return Ok(());
        }
        let mut cut = room;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        self.text.push_str(&s[..cut]);
        Err(fmt::Error)
    }
}

/// Cuts `text` to [`MAX_TEXT_LEN`] bytes at a character boundary.
pub fn truncate(mut text: String) -> String {
    if text.len() > MAX_TEXT_LEN {
        let mut cut = MAX_TEXT_LEN;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// Masks secrets in free text:
/// - the value after a secret-named key, in `Debug` (`password: "x"`,
///   `pin: Some(1234)`), JSON (`"token": "x"`) and query or form syntax
///   (`api_key=x&...`);
/// - `Bearer`/`Basic` credentials, JSON Web Tokens, AWS-style access key
///   ids, and card numbers that pass the Luhn check.
///
/// Returns the input unchanged (borrowed) when there was nothing to mask.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    // Bytes of `text` already copied to `out` (or judged clean).
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let at_word_start = i == 0 || !is_word_byte(bytes[i - 1]);
        if !at_word_start || !is_word_byte(bytes[i]) {
            i += 1;
            continue;
        }
        if let Some((start, end, quoted)) = secret_at(text, i) {
            let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
            out.push_str(&text[copied..start]);
            out.push_str(if quoted { "\"[REDACTED]\"" } else { REDACTED });
            copied = end;
            i = end;
            continue;
        }
        // Skip the rest of this word.
        while i < bytes.len() && is_word_byte(bytes[i]) {
            i += 1;
        }
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.push_str(&text[copied..]);
            Cow::Owned(out)
        }
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// A secret starting at the word at `i`: the byte range to replace, and
/// whether the replacement should be quoted.
fn secret_at(text: &str, i: usize) -> Option<(usize, usize, bool)> {
    let bytes = text.as_bytes();
    if bytes[i].is_ascii_digit() {
        return card_number_at(bytes, i).map(|end| (i, end, false));
    }
    let mut end = i;
    while end < bytes.len() && is_word_byte(bytes[end]) {
        end += 1;
    }
    let word = &text[i..end];
    if let Some(secret) = credential_scheme_at(bytes, word, end)
        .or_else(|| jwt_at(bytes, i))
        .or_else(|| aws_key_at(word).then_some((i, end)))
    {
        return Some((secret.0, secret.1, false));
    }
    if is_secret_name(word) {
        return value_after_key(bytes, end);
    }
    None
}

/// `Bearer <token>` / `Basic <credentials>`: the credentials.
fn credential_scheme_at(bytes: &[u8], word: &str, end: usize) -> Option<(usize, usize)> {
    if !(word.eq_ignore_ascii_case("bearer") || word.eq_ignore_ascii_case("basic")) {
        return None;
    }
    let start = end + 1;
    if bytes.get(end) != Some(&b' ') {
        return None;
    }
    let mut stop = start;
    while stop < bytes.len()
        && (is_word_byte(bytes[stop]) || matches!(bytes[stop], b'.' | b'~' | b'+' | b'/' | b'='))
    {
        stop += 1;
    }
    (stop - start >= 8).then_some((start, stop))
}

/// A JSON Web Token: `eyJ...` base64url, dot, base64url, dot, base64url.
fn jwt_at(bytes: &[u8], i: usize) -> Option<(usize, usize)> {
    if !bytes[i..].starts_with(b"eyJ") {
        return None;
    }
    let mut pos = i;
    for part in 0..3 {
        let start = pos;
        while pos < bytes.len()
            && (bytes[pos].is_ascii_alphanumeric() || bytes[pos] == b'_' || bytes[pos] == b'-')
        {
            pos += 1;
        }
        if pos - start < 4 && part < 2 {
            return None;
        }
        if part < 2 {
            if bytes.get(pos) != Some(&b'.') {
                return None;
            }
            pos += 1;
        }
    }
    Some((i, pos))
}

/// `AKIA…`/`ASIA…` followed by 16 upper-case letters or digits.
fn aws_key_at(word: &str) -> bool {
    word.len() == 20
        && (word.starts_with("AKIA") || word.starts_with("ASIA"))
        && word[4..]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// 13 to 19 digits, optionally grouped by single spaces or dashes, that
/// pass the Luhn check: the end of the number.
fn card_number_at(bytes: &[u8], i: usize) -> Option<usize> {
    // The fraction digits of a decimal (`18.4111111111111111`) are not a card number.
    if i >= 2 && bytes[i - 1] == b'.' && bytes[i - 2].is_ascii_digit() {
        return None;
    }
    let mut digits = Vec::with_capacity(19);
    let mut pos = i;
    let mut end = i;
    while pos < bytes.len() && digits.len() < 19 {
        let b = bytes[pos];
        if b.is_ascii_digit() {
            digits.push(b - b'0');
            pos += 1;
            end = pos;
        } else if (b == b' ' || b == b'-') && bytes.get(pos + 1).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        } else {
            break;
        }
    }
    // A longer digit run is not a card number (an id or a timestamp).
    if bytes.get(end).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    ((13..=19).contains(&digits.len()) && luhn_valid(&digits)).then_some(end)
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

/// After a secret-named key ending at `end`: skip a closing quote, spaces,
/// then `:` or `=`, spaces; the value's byte range follows.
fn value_after_key(bytes: &[u8], end: usize) -> Option<(usize, usize, bool)> {
    let mut pos = end;
    if bytes.get(pos) == Some(&b'"') {
        pos += 1;
    }
    while bytes.get(pos) == Some(&b' ') {
        pos += 1;
    }
    match bytes.get(pos) {
        Some(b':') if bytes.get(pos + 1) != Some(&b':') => {}
        Some(b'=') if bytes.get(pos + 1) != Some(&b'=') => {}
        _ => return None,
    }
    pos += 1;
    while bytes.get(pos) == Some(&b' ') {
        pos += 1;
    }
    let start = pos;
    let stop = value_end(bytes, start)?;
    if stop == start {
        return None;
    }
    let quoted = bytes[start] == b'"';
    let value = &bytes[start..stop];
    if value == b"[REDACTED]" || value == b"\"[REDACTED]\"" || value == b"None" || value == b"null"
    {
        return None;
    }
    Some((start, stop, quoted))
}

/// The end of the value starting at `start`: a quoted string, a bracketed
/// group (with an optional leading name, as in `Some(..)`), or a bare token.
fn value_end(bytes: &[u8], start: usize) -> Option<usize> {
    let first = *bytes.get(start)?;
    if first == b'"' || first == b'\'' {
        let mut pos = start + 1;
        while pos < bytes.len() {
            match bytes[pos] {
                b'\\' => pos += 2,
                b if b == first => return Some(pos + 1),
                _ => pos += 1,
            }
        }
        return Some(bytes.len());
    }
    let mut pos = start;
    while pos < bytes.len()
        && (bytes[pos].is_ascii_alphanumeric() || bytes[pos] == b'_' || bytes[pos] == b':')
    {
        pos += 1;
    }
    let group_at = if bytes.get(pos) == Some(&b' ') && bytes.get(pos + 1) == Some(&b'{') {
        pos + 1
    } else {
        pos
    };
    if matches!(bytes.get(group_at), Some(b'(' | b'[' | b'{')) {
        return Some(balanced_end(bytes, group_at));
    }
    while pos < bytes.len()
        && !matches!(
            bytes[pos],
            b',' | b';' | b'&' | b')' | b'}' | b']' | b' ' | b'\n' | b'\t' | b'"'
        )
    {
        pos += 1;
    }
    Some(pos)
}

fn balanced_end(bytes: &[u8], open_at: usize) -> usize {
    let mut depth = 0usize;
    let mut pos = open_at;
    let mut in_string = false;
    while pos < bytes.len() {
        let b = bytes[pos];
        if in_string {
            match b {
                b'\\' => pos += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return pos + 1;
                    }
                }
                _ => {}
            }
        }
        pos += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_struct_fields_with_secret_names() {
        let text = r#"Login { user: "ann", password: "hunter2", remember: true, api_key: Some("k-123"), pin: 1234 }"#;
        assert_eq!(
            scrub(text),
            r#"Login { user: "ann", password: "[REDACTED]", remember: true, api_key: [REDACTED], pin: [REDACTED] }"#
        );
    }

    #[test]
    fn nested_and_escaped_values() {
        let text = r#"Req { auth: Creds { token: "a\"b" }, card_number: "4111 1111 1111 1111" }"#;
        let out = scrub(text);
        assert!(!out.contains("a\\\"b") && !out.contains("4111"), "{out}");
    }

    #[test]
    fn json_and_query_strings() {
        assert_eq!(
            scrub(r#"{"password": "pw1", "n": 1}"#),
            r#"{"password": "[REDACTED]", "n": 1}"#
        );
        assert_eq!(
            scrub("/login?user=ann&password=pw1&x=2"),
            "/login?user=ann&password=[REDACTED]&x=2"
        );
    }

    #[test]
    fn value_patterns() {
        let out = scrub(
            "header Bearer abcdefghijklmnop.qr and eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl key AKIAIOSFODNN7EXAMPLE card 4111-1111-1111-1111 end",
        );
        for leaked in [
            "abcdefghijklmnop",
            "eyJhbGci",
            "AKIAIOSFODNN7EXAMPLE",
            "4111",
        ] {
            assert!(!out.contains(leaked), "{leaked} leaked: {out}");
        }
        assert!(out.ends_with(" end"));
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        for text in [
            "order 1234567890123 shipped",
            "Order { id: 42, company: \"acme\", author: \"bo\" }",
            "a::b::c",
            "",
            "token",
        ] {
            assert!(
                matches!(scrub(text), Cow::Borrowed(_)),
                "{text} changed to {}",
                scrub(text)
            );
        }
    }

    #[test]
    fn decimal_fractions_are_not_card_numbers() {
        let text = "duration_ms=18.4111111111111111 total 0.4111111111111111";
        assert!(matches!(scrub(text), Cow::Borrowed(_)), "{}", scrub(text));
        assert!(!scrub("card .4111111111111111 end").contains("4111"));
    }

    #[test]
    fn truncates_at_a_char_boundary() {
        let long = "é".repeat(MAX_TEXT_LEN);
        let text = debug_text(&long);
        assert!(text.len() <= MAX_TEXT_LEN + '…'.len_utf8());
        assert!(text.ends_with('…'));
    }

    #[test]
    fn sensitive_never_prints() {
        let secret = Sensitive::new("hunter2");
        assert_eq!(format!("{secret:?} {secret}"), "[REDACTED] [REDACTED]");
        assert_eq!(*secret.expose(), "hunter2");
    }
}
