//! Cutting recorded text to size without revealing a prefix of a secret.
//!
//! A secret cut in two is no longer recognisable, so a cut must never keep
//! the partial token it falls in: if the cut lands inside a token-like run
//! (letters, digits, `-_+/=.~%`, and digit groups of a card or an IBAN) of
//! 8 or more bytes, the whole partial run goes. The formatting cap is such
//! a cut too, and text is scrubbed after that cut and before the final one.

use std::fmt;

use super::scrub::scrub;
use super::{FORMAT_CAP, MAX_TEXT_LEN};

/// A partial run shorter than this is kept: it cannot show 8 characters of
/// a secret.
const SUSPECT_RUN: usize = 8;

/// What ends a cut text.
const ELLIPSIS: char = '…';

/// Formats up to [`FORMAT_CAP`], drops a partial token at the cap, scrubs,
/// and cuts to [`MAX_TEXT_LEN`].
pub(super) fn capped(args: fmt::Arguments<'_>) -> String {
    let mut buffer = CappedWriter {
        text: String::new(),
        limit: FORMAT_CAP,
        overflowed: false,
    };
    // An error here only means the buffer is full.
    let _ = fmt::write(&mut buffer, args);
    finish(buffer.text, buffer.overflowed, MAX_TEXT_LEN)
}

/// The recorded form of `text`, the first bytes of a value (all of it
/// unless `was_cut`): scrubbed and cut to `max` bytes, with no partial
/// token at either cut.
pub(crate) fn finish(mut text: String, was_cut: bool, max: usize) -> String {
    if was_cut {
        // What followed the cap is unknown: the run there may be a secret.
        let start = partial_run_start(text.as_bytes(), text.len());
        if text.len() - start >= SUSPECT_RUN {
            text.truncate(start);
        }
        // A URL cut before its `@` no longer shows its user-info as such
        // (`postgres://app:Pa55!wo…`): all of it after the `://` goes.
        if let Some(authority) = cut_url_authority(text.as_bytes()) {
            text.truncate(authority);
        }
    }
    let text = match scrub(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(clean) => clean,
    };
    let mut text = cut(text, max);
    if was_cut && !text.ends_with(ELLIPSIS) {
        text.push(ELLIPSIS);
    }
    text
}

/// Cuts `text` to [`MAX_TEXT_LEN`] bytes at a character boundary, dropping
/// a partial token of 8 or more bytes at the cut, and ends it with `…`.
/// Scrub before cutting: a secret cut in two is no longer recognised.
pub fn truncate(text: String) -> String {
    cut(text, MAX_TEXT_LEN)
}

fn cut(mut text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut at = max;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let bytes = text.as_bytes();
    if is_run_byte(bytes[at]) || continues_digit_group(bytes, at) {
        let start = partial_run_start(bytes, at);
        if at - start >= SUSPECT_RUN {
            at = start;
        }
    }
    text.truncate(at);
    text.push(ELLIPSIS);
    text
}

/// Where the authority of a URL in the text's last word starts (past its
/// `://`), when that word holds one: the word the cap fell in.
fn cut_url_authority(bytes: &[u8]) -> Option<usize> {
    let word = bytes
        .iter()
        .rposition(|&b| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'<' | b'>' | b'\\'))
        .map_or(0, |p| p + 1);
    let scheme_end = bytes[word..].windows(3).position(|w| w == b"://")?;
    Some(word + scheme_end + 3)
}

fn is_run_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/' | b'=' | b'.' | b'~' | b'%')
}

/// Whether the cut at `at` falls in the separator of a grouped number:
/// spaces on either side of it, a digit group after them, and a group
/// before them (`4111  1111 | 1111`).
fn continues_digit_group(bytes: &[u8], at: usize) -> bool {
    let after = bytes[at..].iter().take_while(|&&b| b == b' ').count();
    let before = bytes[..at].iter().rev().take_while(|&&b| b == b' ').count();
    after + before > 0
        && at > before
        && bytes[at - before - 1].is_ascii_alphanumeric()
        && bytes.get(at + after).is_some_and(u8::is_ascii_digit)
}

/// The start of the token-like run ending at `end`: run bytes, and the
/// spaces between groups that hold digits (`4111 1111 11`, `DE89 3704`),
/// including separator spaces right before `end`.
fn partial_run_start(bytes: &[u8], end: usize) -> usize {
    let trailing = bytes[..end]
        .iter()
        .rev()
        .take_while(|&&b| b == b' ')
        .count();
    if trailing > 0 {
        let before = end - trailing;
        if before == 0 || !group_before_has_digit(bytes, before) {
            return end;
        }
        let start = run_start(bytes, before);
        return if start < before { start } else { end };
    }
    run_start(bytes, end)
}

fn run_start(bytes: &[u8], end: usize) -> usize {
    let mut start = end;
    loop {
        let run = bytes[..start]
            .iter()
            .rev()
            .take_while(|&&b| is_run_byte(b))
            .count();
        start -= run;
        let group = &bytes[start..start + run];
        let spaces = bytes[..start]
            .iter()
            .rev()
            .take_while(|&&b| b == b' ')
            .count();
        let before = start - spaces;
        let grouped = spaces > 0
            && before > 0
            && bytes[before - 1].is_ascii_alphanumeric()
            && group.iter().any(u8::is_ascii_digit)
            && group_before_has_digit(bytes, before);
        if !grouped {
            return start;
        }
        start = before;
    }
}

fn group_before_has_digit(bytes: &[u8], end: usize) -> bool {
    bytes[..end]
        .iter()
        .rev()
        .take_while(|&&b| b.is_ascii_alphanumeric())
        .any(u8::is_ascii_digit)
}

struct CappedWriter {
    text: String,
    limit: usize,
    overflowed: bool,
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
        self.overflowed = true;
        Err(fmt::Error)
    }
}
