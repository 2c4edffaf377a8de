//! `--format sarif`: SARIF 2.1.0, one run, every code as a rule, so code
//! scanning tools can show the findings inline.

use serde_json::{Value, json};

use crate::finding::{Code, Severity};
use crate::frontend::Report;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note | Severity::Allow => "note",
    }
}

fn rules() -> Vec<Value> {
    Code::ALL
        .iter()
        .map(|code| {
            json!({
                "id": code.as_str(),
                "name": code.name(),
                "shortDescription": { "text": code.summary() },
                "fullDescription": { "text": code.summary() },
                "help": { "text": code.help() },
                "defaultConfiguration": { "level": level(code.default_severity()) },
            })
        })
        .collect()
}

/// A relative path as a URI reference: `/`-separated, with the characters
/// a URI cannot hold percent-encoded.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

pub fn render(report: &Report) -> String {
    let results: Vec<Value> = report
        .findings()
        .map(|f| {
            let index = Code::ALL
                .iter()
                .position(|c| *c == f.code)
                .expect("every code is a rule");
            let snippet = report
                .source_of(&f.file)
                .map(|s| s.text[f.location.bytes.clone()].to_string())
                .unwrap_or_default();
            json!({
                "ruleId": f.code.as_str(),
                "ruleIndex": index,
                "level": level(f.severity),
                "message": { "text": f.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&f.file), "uriBaseId": "%SRCROOT%" },
                        "region": {
                            "startLine": f.location.line,
                            "startColumn": f.location.column,
                            "endLine": f.location.end_line,
                            "endColumn": f.location.end_column,
                            "snippet": { "text": snippet },
                        }
                    }
                }],
            })
        })
        .collect();
    let sarif = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "cargo-observe",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://example.invalid/observe",
                    "rules": rules(),
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    let mut text = serde_json::to_string_pretty(&sarif).expect("sarif serializes");
    text.push('\n');
    text
}
