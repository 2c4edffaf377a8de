//! What the workspace instruments: every function `#[observe]` accepts,
//! read through observe-attr's own model, plus the label enums whose
//! cardinality the catalog can show.

use observe_attr::model::{AnnotatedFn, LabelValue};
use quote::ToTokens;
use serde::Serialize;

/// One instrumented function, as the catalog, the rules and the
/// dashboards see it.
#[derive(Clone, Debug, Serialize)]
pub struct ObservedFn {
    pub flow: String,
    pub function: String,
    pub module: String,
    pub file: String,
    pub line: usize,
    pub level: &'static str,
    pub sample: Option<f64>,
    /// The `slow` threshold in milliseconds.
    pub slow_ms: Option<f64>,
    pub labels: Vec<CatalogLabel>,
    /// Label combinations times the outcomes, when every cardinality is known.
    pub series: Option<u64>,
    pub max_series: u64,
    pub slo: Option<SloInfo>,
    #[serde(rename = "async")]
    pub is_async: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct CatalogLabel {
    pub key: String,
    /// The value as written (`"eu"`, `tier`, `req.tier`).
    pub value: String,
    /// The value's declared type, when the value is a bare argument.
    #[serde(rename = "type")]
    pub ty: Option<String>,
    /// How many values the label can take, when the type is visible.
    pub cardinality: Option<u64>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SloInfo {
    /// Percentage of calls that must succeed.
    pub availability: Option<f64>,
    /// Latency threshold in milliseconds.
    pub latency_ms: Option<f64>,
    /// Percentage of calls that must beat the threshold.
    pub percentile: Option<f64>,
}

impl SloInfo {
    pub fn latency_seconds(&self) -> Option<f64> {
        self.latency_ms.map(|ms| ms / 1000.0)
    }

    /// `availability 99.9%, p99 < 300ms`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(a) = self.availability {
            parts.push(format!("availability {}%", crate::num::fmt(a)));
        }
        if let (Some(ms), Some(p)) = (self.latency_ms, self.percentile) {
            parts.push(format!(
                "{}% < {}",
                crate::num::fmt(p),
                crate::num::fmt_ms(ms)
            ));
        }
        parts.join(", ")
    }
}

/// An enum deriving `observe::Label`: its name and number of variants.
#[derive(Clone, Debug)]
pub struct LabelEnum {
    pub name: String,
    pub variants: u64,
}

impl ObservedFn {
    pub fn from_spec(spec: &AnnotatedFn, module: &str, file: &str, line: usize) -> ObservedFn {
        let labels = spec
            .labels
            .iter()
            .map(|label| {
                let (value, cardinality) = match &label.value {
                    LabelValue::Literal(text) => (format!("{text:?}"), Some(1)),
                    LabelValue::Expr(expr) => (compact(expr.to_token_stream().to_string()), None),
                };
                CatalogLabel {
                    key: label.key.clone(),
                    value,
                    ty: label
                        .declared_type
                        .as_ref()
                        .map(|t| compact(t.to_token_stream().to_string())),
                    cardinality,
                }
            })
            .collect();
        ObservedFn {
            flow: spec.flow.clone(),
            function: spec.name.display(),
            module: module.to_string(),
            file: file.to_string(),
            line,
            level: spec.level.as_str(),
            sample: spec.sample,
            slow_ms: spec.slow_us.map(|us| us as f64 / 1000.0),
            labels,
            series: None,
            max_series: spec.max_series,
            slo: spec.slo.as_ref().map(|slo| SloInfo {
                availability: slo.availability,
                latency_ms: slo.latency_us.map(|us| us as f64 / 1000.0),
                percentile: slo.percentile,
            }),
            is_async: spec.is_async,
        }
    }

    /// Fills in label cardinalities from the types the workspace defines.
    pub fn resolve_cardinality(&mut self, enums: &[LabelEnum]) {
        for label in &mut self.labels {
            if label.cardinality.is_some() {
                continue;
            }
            let Some(ty) = &label.ty else { continue };
            let name = ty.rsplit("::").next().unwrap_or(ty);
            label.cardinality = if name == "bool" {
                Some(2)
            } else {
                let matching: Vec<&LabelEnum> = enums.iter().filter(|e| e.name == name).collect();
                match matching.as_slice() {
                    [one] => Some(one.variants),
                    _ => None,
                }
            };
        }
        self.series = self
            .labels
            .iter()
            .try_fold(observe_attr::schema::OUTCOME_COUNT as u64, |acc, l| {
                l.cardinality.map(|c| acc.saturating_mul(c))
            });
    }
}

/// Token text without the spaces `to_string` puts between tokens.
fn compact(text: String) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1).copied();
            let word =
                |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '"');
            if word(prev) && word(next) {
                out.push(' ');
            }
            continue;
        }
        out.push(c);
    }
    out
}
