//! Findings: the stable codes, their default severities, and one finding.

use std::fmt;

use serde::Serialize;

use crate::source::Location;

/// How bad a finding is. `Allow` turns a code off (configuration only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Allow,
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn from_name(name: &str) -> Option<Severity> {
        Some(match name.to_ascii_lowercase().as_str() {
            "allow" | "off" | "ignore" | "none" => Severity::Allow,
            "note" | "info" => Severity::Note,
            "warning" | "warn" => Severity::Warning,
            "error" | "deny" => Severity::Error,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Allow => "allow",
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A finding code. The numbers are stable: a code is never reused for
/// another meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// OBS000: the file could not be parsed, so it was not checked.
    ParseFailure,
    /// OBS001: a metric label key names a high-cardinality concept.
    HighCardinalityKey,
    /// OBS002: a metric label value is not provably bounded.
    UnboundedValue,
    /// OBS003: a log or span field records a secret.
    SecretInLog,
    /// OBS004: `#[tracing::instrument]` records a secret-named parameter.
    SecretParam,
    /// OBS005: an invalid `#[observe(...)]` attribute.
    InvalidObserve,
}

impl Code {
    pub const ALL: [Code; 6] = [
        Code::ParseFailure,
        Code::HighCardinalityKey,
        Code::UnboundedValue,
        Code::SecretInLog,
        Code::SecretParam,
        Code::InvalidObserve,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::ParseFailure => "OBS000",
            Code::HighCardinalityKey => "OBS001",
            Code::UnboundedValue => "OBS002",
            Code::SecretInLog => "OBS003",
            Code::SecretParam => "OBS004",
            Code::InvalidObserve => "OBS005",
        }
    }

    pub fn from_name(text: &str) -> Option<Code> {
        Code::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(text) || c.name() == text)
    }

    /// A short kebab-case name (the SARIF rule name).
    pub fn name(self) -> &'static str {
        match self {
            Code::ParseFailure => "parse-failure",
            Code::HighCardinalityKey => "high-cardinality-label-key",
            Code::UnboundedValue => "unbounded-label-value",
            Code::SecretInLog => "secret-in-log-field",
            Code::SecretParam => "secret-param-in-instrument",
            Code::InvalidObserve => "invalid-observe-attribute",
        }
    }

    pub fn default_severity(self) -> Severity {
        match self {
            Code::ParseFailure | Code::UnboundedValue => Severity::Warning,
            Code::HighCardinalityKey
            | Code::SecretInLog
            | Code::SecretParam
            | Code::InvalidObserve => Severity::Error,
        }
    }

    pub fn summary(self) -> &'static str {
        match self {
            Code::ParseFailure => "The file could not be parsed as Rust, so it was not checked.",
            Code::HighCardinalityKey => {
                "A metric label key names a high-cardinality concept (an id, user, email, address, path, timestamp...)."
            }
            Code::UnboundedValue => {
                "A metric label value is not provably bounded (format!, to_string(), a variable); \
                 an error when the key is also high-cardinality."
            }
            Code::SecretInLog => {
                "A log or span field records a secret (password, token, card number...)."
            }
            Code::SecretParam => {
                "#[tracing::instrument] records a parameter whose name marks it as a secret and that is not skipped."
            }
            Code::InvalidObserve => {
                "An #[observe(...)] attribute the macro would reject (its own message)."
            }
        }
    }

    pub fn help(self) -> &'static str {
        match self {
            Code::ParseFailure => {
                "fix the syntax error, or exclude the file in [workspace.metadata.observe] `exclude`"
            }
            Code::HighCardinalityKey => {
                "record the value as a span or log field instead, or label with a bounded category (an enum deriving observe::Label)"
            }
            Code::UnboundedValue => {
                "use a string literal, a constant, or an enum deriving observe::Label; put unbounded values in log fields"
            }
            Code::SecretInLog => {
                "remove the field, or wrap the value in observe::Sensitive so it prints [REDACTED]"
            }
            Code::SecretParam => {
                "add it to `skip(...)`, or migrate to #[observe], which redacts secret-named arguments"
            }
            Code::InvalidObserve => {
                "fix the attribute as the message says; the macro reports the same error at compile time"
            }
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding in one file.
#[derive(Clone, Debug)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// The label under the underlined span.
    pub label: String,
    pub file: String,
    pub location: Location,
    /// The first line of the enclosing statement, macro call or item: a
    /// suppression comment above it also applies.
    pub anchor_line: usize,
}
