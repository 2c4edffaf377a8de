//! One Rust source file: its text, a line index, and the conversion of
//! proc-macro2 spans (with `span-locations`) into file positions.

use std::ops::Range;

use proc_macro2::Span;

/// A file read from disk, with the path as it is shown to the user.
pub struct SourceFile {
    /// The path shown in findings (relative, forward slashes).
    pub display: String,
    pub text: String,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
    /// Where the text syn parsed begins (after a byte-order mark or a shebang).
    base: usize,
}

/// A position range in a file: 1-based lines and columns (columns count
/// characters), plus the byte range for snippets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub bytes: Range<usize>,
}

impl SourceFile {
    pub fn new(display: String, text: String) -> SourceFile {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            display,
            text,
            line_starts,
            base: 0,
        }
    }

    /// Parses the file the way `syn::parse_file` does, remembering the
    /// offset of the parsed text so spans map back to the whole file.
    pub fn parse(&mut self) -> syn::Result<syn::File> {
        let mut content = self.text.as_str();
        let mut base = 0;
        if let Some(rest) = content.strip_prefix('\u{feff}') {
            content = rest;
            base += '\u{feff}'.len_utf8();
        }
        let mut shebang = None;
        if content.starts_with("#!") && !content[2..].trim_start().starts_with('[') {
            let end = content.find('\n').unwrap_or(content.len());
            shebang = Some(content[..end].to_string());
            content = &content[end..];
            base += end;
        }
        self.base = base;
        let mut file: syn::File = syn::parse_str(content)?;
        file.shebang = shebang;
        Ok(file)
    }

    /// The location of `span`, a span of tokens parsed from this file.
    pub fn locate(&self, span: Span) -> Location {
        let range = span.byte_range();
        self.locate_bytes(range.start + self.base..range.end + self.base)
    }

    /// The location covering `start` to `end` (both spans from this file).
    pub fn locate_between(&self, start: Span, end: Span) -> Location {
        let a = start.byte_range();
        let b = end.byte_range();
        let lo = a.start.min(b.start) + self.base;
        let hi = a.end.max(b.end) + self.base;
        self.locate_bytes(lo..hi)
    }

    pub fn locate_bytes(&self, bytes: Range<usize>) -> Location {
        let start = bytes.start.min(self.text.len());
        let end = bytes.end.clamp(start, self.text.len());
        let (line, column) = self.line_column(start);
        let (end_line, end_column) = self.line_column(end);
        Location {
            line,
            column,
            end_line,
            end_column,
            bytes: start..end,
        }
    }

    /// 1-based line and character column of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let line_start = self.line_starts[line - 1];
        let column = self
            .text
            .get(line_start..offset)
            .map_or(offset - line_start, |s| s.chars().count())
            + 1;
        (line, column)
    }

    /// The text of 1-based line `line`, without its newline.
    pub fn line_text(&self, line: usize) -> &str {
        if line == 0 || line > self.line_starts.len() {
            return "";
        }
        let start = self.line_starts[line - 1];
        let end = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    /// Byte offset where 1-based line `line` starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(self.text.len())
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_map_to_lines_and_character_columns() {
        let mut src = SourceFile::new("x.rs".into(), "// é\nfn f() { let café = 1; }\n".into());
        let file = src.parse().unwrap();
        let syn::Item::Fn(f) = &file.items[0] else {
            panic!()
        };
        let loc = src.locate(f.sig.ident.span());
        assert_eq!((loc.line, loc.column, loc.end_column), (2, 4, 5));
        assert_eq!(&src.text[loc.bytes], "f");
    }

    #[test]
    fn byte_order_mark_and_shebang_keep_offsets() {
        let mut src = SourceFile::new(
            "x.rs".into(),
            "\u{feff}#!/usr/bin/env run\nfn main() {}\n".into(),
        );
        let file = src.parse().unwrap();
        let syn::Item::Fn(f) = &file.items[0] else {
            panic!()
        };
        let loc = src.locate(f.sig.ident.span());
        assert_eq!((loc.line, loc.column), (2, 4));
        assert_eq!(&src.text[loc.bytes], "main");
    }
}
