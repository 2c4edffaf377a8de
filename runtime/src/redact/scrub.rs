//! The scrubber's single pass: at each word start, the detectors of the
//! other modules get one look; the first that recognises a secret says
//! which bytes to replace.

use std::borrow::Cow;

use super::REDACTED;
use super::{formats, keyed, numbers};

/// Bytes `start..end` of the text are a secret. The value's own quote
/// (`"`, `'`, `\"`...), `quote` bytes long at both ends, is kept around
/// the marker so the surrounding syntax stays valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Hit {
    pub start: usize,
    pub end: usize,
    pub quote: usize,
}

impl Hit {
    pub fn bare(start: usize, end: usize) -> Self {
        Hit {
            start,
            end,
            quote: 0,
        }
    }
}

/// Masks secrets in free text, replacing each with `[REDACTED]`:
/// - the value after a secret-named key (see
///   [`is_secret_name`](observe_attr::names::is_secret_name)) in `Debug`
///   (`password: "x"`, `pin: Some(1234)`), JSON (also escaped inside a
///   string), Python/Ruby dicts, `("key", value)` pairs, `key => value`,
///   `key=value`, `key: value`, XML/HTML elements, and query strings (also
///   percent-encoded);
/// - HTTP credentials: the whole value after an `Authorization`,
///   `Proxy-Authorization`, `Cookie` or `Set-Cookie` header name, and a
///   token68 credential of 16 or more characters after `Bearer`, `Basic`,
///   `Token`, `Digest` or `Negotiate`;
/// - the password of URL user-info (`scheme://user:pass@host`);
/// - JSON Web Tokens, PEM private key blocks, and vendor tokens with a
///   known prefix (AWS, GitHub, GitLab, Slack, Stripe, Google, OpenAI-style
///   `sk-`, npm, Hugging Face);
/// - card numbers (13 to 19 digits, issuer prefix, Luhn check; any
///   grouping by spaces, dashes or dots), US SSNs (`123-45-6789`) and IBANs
///   (mod-97 checksum).
///
/// Returns the input unchanged (borrowed) when there was nothing to mask.
/// Scrubbing scrubbed text changes nothing.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    // Bytes of `text` already copied to `out` (or judged clean).
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let Some(hit) = secret_at(text, i).map(|hit| widened(bytes, hit)) else {
            i += 1;
            continue;
        };
        // A hit after a key starts past it: a secret inside a long key (a
        // quoted one holds several words) is masked first, then the value.
        let inner = (i + 1..hit.start)
            .find_map(|j| secret_at(text, j).filter(|inner| inner.start < hit.start))
            .map(|inner| widened(bytes, inner));
        // A secret that starts a quoted key (`"sk_live_… password": "x"`):
        // the key's value too.
        let value = (hit.start == i && i > 0 && matches!(bytes[i - 1], b'"' | b'\''))
            .then(|| keyed::value_after_key(text, i))
            .flatten();
        for hit in inner.into_iter().chain(Some(hit)).chain(value) {
            if hit.start < copied {
                continue;
            }
            let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
            let quote = &text[hit.start..hit.start + hit.quote];
            out.push_str(&text[copied..hit.start]);
            out.push_str(quote);
            out.push_str(REDACTED);
            out.push_str(quote);
            copied = hit.end;
        }
        i = copied.max(i + 1);
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.push_str(&text[copied..]);
            Cow::Owned(out)
        }
    }
}

/// The secret the detectors find at byte `i`, if any. Detectors only look
/// at the start of a word, so ordinary text costs a byte comparison or two
/// per byte.
fn secret_at(text: &str, i: usize) -> Option<Hit> {
    let bytes = text.as_bytes();
    let b = bytes[i];
    if b == b':' {
        return url_password_at(bytes, i);
    }
    let prev = i.checked_sub(1).map(|p| bytes[p]);
    if b == b'-' || b == b'_' {
        if b == b'-'
            && let Some(end) = formats::pem_block_at(bytes, i)
        {
            return Some(Hit::bare(i, end));
        }
        // A key may start with dashes or underscores (`--db-password=x`,
        // `_token`, `__Secure-session`): read from the first of them.
        if prev.is_some_and(keyed::is_key_byte) {
            return None;
        }
        return keyed::value_after_key(text, i);
    }
    // A word starts at a letter or digit, or at the first byte of a
    // non-ASCII character (`contraseña`, `пароль`).
    if !(b.is_ascii_alphanumeric() || b >= 0xC0) {
        return None;
    }
    let inside_word = prev.is_some_and(|p| p.is_ascii_alphanumeric() || p >= 0x80);
    let after_escape = inside_word && after_percent_escape(bytes, i);
    if inside_word && !after_escape {
        return None;
    }
    if b.is_ascii_digit()
        && let Some(end) = numbers::card_or_ssn_at(bytes, i)
    {
        return Some(Hit::bare(i, end));
    }
    if let Some(end) = formats::token_at(bytes, i).or_else(|| numbers::iban_at(bytes, i)) {
        return Some(Hit::bare(i, end));
    }
    if b.is_ascii_alphabetic()
        && let Some(hit) = scheme_credential_at(bytes, i)
    {
        return Some(hit);
    }
    // A key is a whole identifier: `x-api-key`, not its `api-key` tail.
    if !prev.is_some_and(|p| p == b'_' || p == b'-') || after_escape {
        return keyed::value_after_key(text, i);
    }
    None
}

/// A hit grown to cover a secret that starts inside it and runs past its
/// end: a PEM block after a header name (`Authorization: -----BEGIN …`),
/// a grouped card number or IBAN as a bare value (`pin=4111 1111 …`).
fn widened(bytes: &[u8], mut hit: Hit) -> Hit {
    let start = hit.start;
    if hit.quote == 0
        && bytes[start].is_ascii_alphanumeric()
        && let Some(end) =
            numbers::card_or_ssn_at(bytes, start).or_else(|| numbers::iban_at(bytes, start))
    {
        hit.end = hit.end.max(end);
    }
    if let Some(begin) = (hit.start..hit.end).find(|&p| bytes[p..].starts_with(formats::PEM_BEGIN))
        && let Some(end) = formats::pem_block_at(bytes, begin)
    {
        hit.end = hit.end.max(end);
    }
    hit
}

/// Whether byte `i` follows a percent-escape (`%26password`), which starts
/// a word in URL-encoded text although a hex digit precedes it.
fn after_percent_escape(bytes: &[u8], i: usize) -> bool {
    i >= 3
        && bytes[i - 3] == b'%'
        && bytes[i - 2].is_ascii_hexdigit()
        && bytes[i - 1].is_ascii_hexdigit()
}

/// Bytes a token68 credential (RFC 7235) or a token run is made of.
pub(super) fn is_token68_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
}

/// The length of the run of bytes satisfying `ok` from `start`.
pub(super) fn run_len(bytes: &[u8], start: usize, ok: impl Fn(u8) -> bool) -> usize {
    bytes
        .get(start..)
        .map_or(0, |rest| rest.iter().take_while(|&&b| ok(b)).count())
}

/// The authentication schemes whose credential follows after a space.
pub(super) const AUTH_SCHEMES: &[&str] = &["bearer", "basic", "token", "digest", "negotiate"];

/// The shortest credential masked after a scheme word alone: shorter runs
/// are prose (`Basic plan`, `Token ring`).
const MIN_SCHEME_CREDENTIAL: usize = 16;

/// `Bearer <token68>` without a header name: the credential, when it is
/// long enough to be one.
fn scheme_credential_at(bytes: &[u8], i: usize) -> Option<Hit> {
    if !matches!(bytes[i].to_ascii_lowercase(), b'b' | b't' | b'd' | b'n') {
        return None;
    }
    let word = run_len(bytes, i, |b| b.is_ascii_alphabetic());
    if !AUTH_SCHEMES
        .iter()
        .any(|s| s.as_bytes().eq_ignore_ascii_case(&bytes[i..i + word]))
    {
        return None;
    }
    let spaces = run_len(bytes, i + word, |b| b == b' ' || b == b'\t');
    if spaces == 0 {
        return None;
    }
    let start = i + word + spaces;
    let len = run_len(bytes, start, is_token68_byte);
    (len >= MIN_SCHEME_CREDENTIAL).then_some(Hit::bare(start, start + len))
}

/// The longest raw password (one holding `/`, `?` or `#`) looked for in a
/// URL's user-info.
const MAX_RAW_PASSWORD: usize = 256;

/// `scheme://user:password@host`: the password (the user stays). User-info
/// without a password is masked when it is long enough to be a token
/// (`https://<token>@host`). A password pasted raw may hold `/`, `?` or `#`
/// (`postgres://app:pa/ss@db`): then the user-info runs to the first `@`,
/// unless what follows the colon is a port (`http://host:8080/a@b`, so a
/// raw password of digits before its `/` is not recognised) or the user is
/// a host name (`git+https://github.com:org/pkg.git@v1`). `:\/\/` (JSON
/// with escaped slashes) counts as `://`.
/// Found at the `://`, not at the scheme's start, so that text such as
/// `a.a.a.a…` is not scanned again from every word start.
fn url_password_at(bytes: &[u8], i: usize) -> Option<Hit> {
    let after_scheme = i.checked_sub(1).is_some_and(|p| {
        bytes[p].is_ascii_alphanumeric() || matches!(bytes[p], b'+' | b'.' | b'-')
    });
    // `\/\/` is how some JSON encoders write `//`.
    let separator = if bytes[i..].starts_with(b"://") {
        3
    } else if bytes[i..].starts_with(b":\\/\\/") {
        5
    } else {
        return None;
    };
    if !after_scheme {
        return None;
    }
    let authority = i + separator;
    let ends_url =
        |b: u8| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'<' | b'>' | b'\\');
    let info_len = run_len(bytes, authority, |b| {
        !(ends_url(b) || matches!(b, b'/' | b'?' | b'#'))
    });
    let info = &bytes[authority..authority + info_len];
    let (start, end) = match info.iter().rposition(|&b| b == b'@') {
        Some(at) => match info[..at].iter().position(|&b| b == b':') {
            Some(colon) => (colon + 1, at),
            None if at >= 20 => (0, at),
            None => return None,
        },
        None => {
            let colon = info.iter().position(|&b| b == b':')?;
            let (user, port) = (&info[..colon], &info[colon + 1..]);
            // Not a port (`host:8080/a@b`), not a host name (`github.com:org/x.git@v1`),
            // not an IPv6 address.
            let is_port = port.iter().all(u8::is_ascii_digit);
            if user.first() == Some(&b'[') || user.contains(&b'.') || is_port {
                return None;
            }
            // Bounded, so that text repeating `a://b:c/` is not scanned
            // to its end from every `://`.
            let from = authority + colon + 1;
            let rest = &bytes[from..bytes.len().min(from + MAX_RAW_PASSWORD)];
            let at = rest
                .iter()
                .take_while(|&&b| !ends_url(b))
                .position(|&b| b == b'@')?;
            (colon + 1, colon + 1 + at)
        }
    };
    let (start, end) = (authority + start, authority + end);
    (end > start && &bytes[start..end] != REDACTED.as_bytes()).then_some(Hit::bare(start, end))
}
