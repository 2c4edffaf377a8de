//! Values after a secret-named key, in every syntax a program prints
//! key-value data in: `Debug` (`password: "x"`), JSON and escaped JSON
//! (`\"password\":\"x\"`), Python/Ruby (`'password': 'x'`,
//! `password => "x"`), pairs (`("password", "x")`), `key=value` and query
//! strings (also `%3D`), XML/HTML (`<password>x</password>`), and HTTP
//! header lines (`Authorization: Bearer x`: the whole header value).

use observe_attr::names::is_secret_name;

use super::REDACTED;
use super::scrub::{AUTH_SCHEMES, Hit, is_token68_byte, run_len};

/// Header names whose whole value is a credential (a cookie header's every
/// cookie, an authorization header's scheme and credential).
const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// Values that hide nothing, left as they are (which also keeps scrubbing
/// idempotent).
const EMPTY_VALUES: &[&str] = &["None", "null", "nil", "\"\"", "''"];

pub(super) fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || !b.is_ascii()
}

/// How the value after a key is delimited.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    /// `key=value`: up to a space or punctuation.
    Plain,
    /// `key: value`, `key := value`, `key = value`, `key => value`: a
    /// bare value there may hold spaces (`password: correct horse`), so
    /// it runs to the end of the line or to punctuation.
    Spaced,
    /// `Name(value)`: the group's inside.
    Group,
    /// `<key>value</key>`: up to the next tag.
    Element,
    /// A credential header's value: up to the end of the line.
    HeaderLine,
}

/// The longest quoted key read as one name (`"db.password"`,
/// `"Secret Key"`); longer quoted text is prose, not a key.
const MAX_QUOTED_KEY: usize = 256;

/// The secret value after the key starting at `i`, if the word there is a
/// secret name followed by a key-value separator. A key inside quotes is
/// the whole quoted text (`"db.password": "x"`); failing that, the word
/// alone (`"password: x"` inside a string).
pub(super) fn value_after_key(text: &str, i: usize) -> Option<Hit> {
    let bytes = text.as_bytes();
    let word_end = i + run_len(bytes, i, is_key_byte);
    let Some(open) = quote_before(bytes, i) else {
        return value_after(text, i, word_end, None);
    };
    let quote = &bytes[open.0..i];
    quoted_key_end(bytes, i, quote)
        .and_then(|key_end| value_after(text, i, key_end, Some(open)))
        .or_else(|| value_after(text, i, word_end, None))
}

/// The end of the key that starts at `i` right after the opening `quote`:
/// where the same quote closes a name, within [`MAX_QUOTED_KEY`] bytes.
fn quoted_key_end(bytes: &[u8], i: usize, quote: &[u8]) -> Option<usize> {
    let limit = bytes.len().min(i + MAX_QUOTED_KEY);
    // A name: letters, digits, `_`, `-`, `.` and spaces, nothing that
    // could separate a key from a value inside it.
    let end = i + run_len(&bytes[..limit], i, |b| {
        is_key_byte(b) || b == b'.' || b == b' '
    });
    (end > i && bytes[end..].starts_with(quote)).then_some(end)
}

/// The secret value after the key `i..key_end` (opened by the quote at
/// `open`, when quoted), if the key is a secret name followed by a
/// key-value separator.
fn value_after(text: &str, i: usize, key_end: usize, open: Option<(usize, u8)>) -> Option<Hit> {
    let bytes = text.as_bytes();
    let key = &text[i..key_end];
    let mut pos = key_end;
    if let Some(quote) = open {
        let quote = &bytes[quote.0..i];
        if !bytes[pos..].starts_with(quote) {
            return None;
        }
        pos += quote.len();
    }
    let header = CREDENTIAL_HEADERS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(key));
    let spaces = run_len(bytes, pos, |b| b == b' ' || b == b'\t');
    pos += spaces;
    let mut context = Context::Plain;
    let rest = &bytes[pos..];
    if open.is_none() && i > 0 && bytes[i - 1] == b'<' {
        // `<key>` or `<key attr="...">`, not `<key/>`.
        let close = run_len(bytes, pos, |b| b != b'>' && b != b'<' && b != b'\n');
        if bytes.get(pos + close) != Some(&b'>') || (close > 0 && bytes[pos + close - 1] == b'/') {
            return None;
        }
        pos += close + 1;
        context = Context::Element;
    } else if open.is_none()
        && key.as_bytes()[0].is_ascii_uppercase()
        && ((spaces == 0 && rest.first() == Some(&b'('))
            || (spaces == 1 && rest.first() == Some(&b'{')))
    {
        // A secret-named struct or variant, as `Debug` prints it:
        // `ApiToken("x")`, `Password { value: "x" }`.
        context = Context::Group;
    } else if rest.starts_with(b"=>") || rest.starts_with(b":=") {
        pos += 2;
        context = Context::Spaced;
    } else if rest.first() == Some(&b':') && rest.get(1) != Some(&b':') {
        pos += 1;
        context = if header {
            Context::HeaderLine
        } else {
            Context::Spaced
        };
    } else if rest.first() == Some(&b'=') && rest.get(1) != Some(&b'=') {
        pos += 1;
        if spaces > 0 || bytes.get(pos) == Some(&b' ') {
            // `password = correct horse`: an INI or TOML line.
            context = Context::Spaced;
        }
    } else if rest.len() >= 3
        && rest[0] == b'%'
        && matches!(&rest[1..3], b"3D" | b"3d" | b"3A" | b"3a")
    {
        pos += 3;
    } else if rest.first() == Some(&b',')
        && !key.contains(' ')
        && open.is_some_and(|(quote_start, _)| opens_pair(bytes, quote_start))
    {
        // `("password", "hunter2")`, also as `{:#?}` prints it, over lines.
        pos += 1;
        pos += run_len(bytes, pos, |b| b.is_ascii_whitespace());
    } else if header && spaces > 0 && next_word_is_scheme(bytes, pos) {
        // `Authorization Bearer x`: a header line without its colon.
        context = Context::HeaderLine;
    } else if spaces > 0 && matches!(rest.first(), Some(b'"' | b'\'')) {
        // A quoted value after a space: `WITH PASSWORD 'x'`, a command's
        // `Debug` (`"--password" "x"`).
        context = Context::Plain;
    } else if spaces > 0
        && key.starts_with('-')
        && rest
            .first()
            .is_some_and(|&b| b != b'-' && !b.is_ascii_whitespace())
    {
        // A command-line flag and its value: `--password x`.
        context = Context::Plain;
    } else if rest.first() == Some(&b',')
        && !key.contains(' ')
        && key.starts_with('-')
        && open.is_some()
    {
        // An argument list: `["mysql", "--password", "x"]`.
        pos += 1;
        pos += run_len(bytes, pos, |b| b.is_ascii_whitespace());
    } else {
        return None;
    }
    if !is_secret_name(key) {
        return None;
    }
    if context == Context::Group {
        let end = balanced_end(bytes, pos);
        let inner_end = if matches!(bytes[end - 1], b')' | b'}') {
            end - 1
        } else {
            end
        };
        let value = &text[pos + 1..inner_end];
        // Only a value that holds data: `Token(Eof)` of a lexer stays. A
        // struct with a secret-named field of its own is left to the
        // field's rule (`Credentials { user: "ann", password: .. }` keeps
        // its user).
        let holds_data = value
            .bytes()
            .any(|b| b == b'"' || b == b'\'' || b.is_ascii_digit());
        let fields_say = bytes[pos] == b'{' && has_secret_field(value.as_bytes());
        return (holds_data && !fields_say && !value.trim_start().starts_with(REDACTED))
            .then_some(Hit::bare(pos + 1, inner_end));
    }
    if context == Context::Spaced
        && let Some(next_lines) = value_on_next_lines(bytes, pos)
    {
        return next_lines;
    }
    if context != Context::Element {
        pos += run_len(bytes, pos, |b| b == b' ' || b == b'\t');
    }
    let start = pos;
    let (end, quote) = value_end(bytes, start, context);
    if end <= start {
        return None;
    }
    let value = &text[start..end];
    if value[quote..].starts_with(REDACTED) || EMPTY_VALUES.contains(&value) {
        return None;
    }
    Some(Hit { start, end, quote })
}

/// Whether a struct's `Debug` body (`user: "ann", password: "x"`) names a
/// secret-named field at its top level.
fn has_secret_field(body: &[u8]) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut pos = 0;
    while pos < body.len() {
        let b = body[pos];
        if in_string {
            match b {
                b'\\' => pos += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if matches!(b, b'(' | b'[' | b'{') {
            depth += 1;
        } else if matches!(b, b')' | b']' | b'}') {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && is_key_byte(b) && (pos == 0 || !is_key_byte(body[pos - 1])) {
            let end = pos + run_len(body, pos, is_key_byte);
            if body.get(end) == Some(&b':')
                && std::str::from_utf8(&body[pos..end]).is_ok_and(is_secret_name)
            {
                return true;
            }
            pos = end;
            continue;
        }
        pos += 1;
    }
    false
}

/// A YAML value on the lines after its key (`password:` then an indented
/// line), or a block scalar (`password: |` then indented lines): those
/// lines, when the key's own line holds no value. `None` when the key's line
/// holds its value; `Some(None)` when the lines hold nothing to mask.
fn value_on_next_lines(bytes: &[u8], pos: usize) -> Option<Option<Hit>> {
    let mut at = pos + run_len(bytes, pos, |b| b == b' ' || b == b'\t');
    let indicator = run_len(bytes, at, |b| matches!(b, b'|' | b'>' | b'-' | b'+'));
    if indicator > 0 && matches!(bytes[at], b'|' | b'>') {
        at += indicator;
        at += run_len(bytes, at, |b| b == b' ' || b == b'\t');
    }
    let line_break = run_len(bytes, at, |b| b == b'\r' || b == b'\n');
    if line_break == 0 || (at != pos && indicator == 0) {
        return None;
    }
    let start = at + line_break;
    let mut end = start;
    // The following lines that are indented.
    while end < bytes.len() && matches!(bytes[end], b' ' | b'\t') {
        end += run_len(bytes, end, |b| b != b'\n' && b != b'\r');
        end += run_len(bytes, end, |b| b == b'\r' || b == b'\n');
    }
    while end > start && bytes[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    let first = start + run_len(bytes, start, |b| b == b' ' || b == b'\t');
    Some(
        (end > first && !bytes[first..].starts_with(REDACTED.as_bytes()))
            .then_some(Hit::bare(first, end)),
    )
}

/// Whether the quote at `quote_start` opens the first item of a tuple or a
/// list: `(` or `[` before it, with only whitespace between.
fn opens_pair(bytes: &[u8], quote_start: usize) -> bool {
    bytes[..quote_start]
        .iter()
        .rev()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| matches!(b, b'(' | b'['))
}

/// The quote right before the key at `i` (`"`, `'`, or an escaped quote such
/// as `\"` or `\\\"`): its start, and the quote byte.
fn quote_before(bytes: &[u8], i: usize) -> Option<(usize, u8)> {
    let quote = *bytes.get(i.checked_sub(1)?)?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let mut start = i - 1;
    while start > 0 && bytes[start - 1] == b'\\' {
        start -= 1;
    }
    Some((start, quote))
}

fn next_word_is_scheme(bytes: &[u8], pos: usize) -> bool {
    let word = run_len(bytes, pos, |b| b.is_ascii_alphabetic());
    AUTH_SCHEMES
        .iter()
        .any(|s| s.as_bytes().eq_ignore_ascii_case(&bytes[pos..pos + word]))
}

/// The end of the value starting at `start`, and the length of its quote
/// (kept around the marker): a quoted string (escaped quotes too), a
/// bracketed group (with an optional leading name, as in `Some(..)`), the
/// rest of a header line, an element's text, or a bare token. An
/// unterminated value runs to the end of the text (a cut value is still
/// masked).
fn value_end(bytes: &[u8], start: usize, context: Context) -> (usize, usize) {
    let Some(&first) = bytes.get(start) else {
        return (start, 0);
    };
    if context == Context::Element {
        return (start + run_len(bytes, start, |b| b != b'<'), 0);
    }
    let backslashes = run_len(bytes, start, |b| b == b'\\');
    if let Some(&quote @ (b'"' | b'\'')) = bytes.get(start + backslashes) {
        let quote_len = backslashes + 1;
        return (quoted_end(bytes, start, quote_len, quote), quote_len);
    }
    if backslashes > 0 {
        return (start, 0);
    }
    if context == Context::HeaderLine {
        return (line_end(bytes, start), 0);
    }
    if matches!(first, b'(' | b'[' | b'{') {
        return (balanced_end(bytes, start), 0);
    }
    let name = run_len(bytes, start, |b| {
        b.is_ascii_alphanumeric() || b == b'_' || b == b':'
    });
    let group_at =
        if bytes.get(start + name) == Some(&b' ') && bytes.get(start + name + 1) == Some(&b'{') {
            start + name + 1
        } else {
            start + name
        };
    if name > 0 && matches!(bytes.get(group_at), Some(b'(' | b'[' | b'{')) {
        return (balanced_end(bytes, group_at), 0);
    }
    // After `key: `, a bare value may hold spaces (and brackets it opens);
    // a line break ends it.
    let spaced = context == Context::Spaced;
    let mut depth = 0usize;
    let mut pos = start;
    while pos < bytes.len() {
        let b = bytes[pos];
        if spaced && matches!(b, b'(' | b'[' | b'{') {
            depth += 1;
        } else if spaced && depth > 0 && matches!(b, b')' | b']' | b'}') {
            depth -= 1;
        } else if (b.is_ascii_whitespace() && (!spaced || b == b'\n' || b == b'\r'))
            || bytes[pos..].starts_with(b"%26")
            || (depth == 0 && ends_value(bytes, pos))
        {
            break;
        }
        pos += 1;
    }
    // Spaces before the punctuation that ended it are not the value's.
    while pos > start && matches!(bytes[pos - 1], b' ' | b'\t') {
        pos -= 1;
    }
    // `password=Bearer <token>`: the scheme and its credential.
    if next_word_is_scheme(bytes, start)
        && run_len(bytes, start, |b| b.is_ascii_alphabetic()) == pos - start
    {
        let spaces = run_len(bytes, pos, |b| b == b' ');
        let credential = run_len(bytes, pos + spaces, is_token68_byte);
        if spaces > 0 && credential > 0 {
            pos += spaces + credential;
        }
    }
    (pos, 0)
}

/// Whether the punctuation at `pos` ends a bare value. A bracket, quote or
/// backslash with a letter or digit right after it is part of the value
/// (`password=Xy)z`); a `,` `;` or `&` ends it only before the next
/// `key=`/`key:`, a space or the end (`Password=x;Host=db` ends, and
/// `password=abc;def` does not).
fn ends_value(bytes: &[u8], pos: usize) -> bool {
    let next = bytes.get(pos + 1).copied();
    match bytes[pos] {
        b')' | b'}' | b']' | b'"' | b'\'' | b'<' | b'>' | b'\\' => {
            !next.is_some_and(|b| b.is_ascii_alphanumeric())
        }
        b',' | b';' | b'&' => match next {
            None => true,
            Some(b) if !b.is_ascii_alphanumeric() && b != b'_' && b != b'-' => true,
            Some(_) => {
                let key = run_len(bytes, pos + 1, is_key_byte);
                matches!(bytes.get(pos + 1 + key), Some(b'=' | b':'))
            }
        },
        _ => false,
    }
}

/// The end (past the closing quote) of the string opening at `start` with
/// `quote_len - 1` backslashes and `quote`. Plain quotes honour backslash
/// escapes; an escaped quote ends at the next same escaped quote.
fn quoted_end(bytes: &[u8], start: usize, quote_len: usize, quote: u8) -> usize {
    let mut pos = start + quote_len;
    if quote_len == 1 {
        while pos < bytes.len() {
            match bytes[pos] {
                b'\\' => pos += 2,
                b if b == quote => return pos + 1,
                _ => pos += 1,
            }
        }
        return bytes.len();
    }
    let close = &bytes[start..start + quote_len];
    while pos + quote_len <= bytes.len() {
        if &bytes[pos..pos + quote_len] == close && bytes[pos - 1] != b'\\' {
            return pos + quote_len;
        }
        pos += 1;
    }
    bytes.len()
}

/// The end of a header value: a line break, or an escaped one (`\r`, `\n`
/// in `Debug` text). Quotes do not end it: a header value may hold them
/// (`Digest username="a", response="…"`).
fn line_end(bytes: &[u8], start: usize) -> usize {
    let mut pos = start;
    while pos < bytes.len() {
        match bytes[pos] {
            b'\r' | b'\n' => break,
            b'\\' if matches!(bytes.get(pos + 1), Some(b'r' | b'n')) => break,
            _ => pos += 1,
        }
    }
    // Trailing spaces are not part of the value.
    while pos > start && bytes[pos - 1] == b' ' {
        pos -= 1;
    }
    pos
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
                    depth = depth.saturating_sub(1);
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
