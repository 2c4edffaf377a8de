//! The SLO model (one objective per function and kind, read from the
//! catalog) and the PromQL both `rules` and `dashboard` build from it.
//! Metric names, label keys and the failed outcomes come from
//! `observe_attr::schema`, so the queries follow what the runtime records.

use observe_attr::schema::{self, label};

use crate::num::fmt;
use crate::observed::ObservedFn;

/// The recording windows every objective gets.
pub const WINDOWS: [&str; 7] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];

/// One multi-window condition: both the long and the short window burn
/// faster than `factor` times the budget.
pub struct Burn {
    /// The long window.
    pub long: &'static str,
    /// The short window, which makes the alert stop soon after the burn does.
    pub short: &'static str,
    /// The burn rate, in budgets: 1 spends the budget over 30 days.
    pub factor: f64,
    /// `page` or `ticket`.
    pub severity: &'static str,
}

/// The SRE workbook's recommended pairs.
pub const BURNS: [Burn; 4] = [
    Burn {
        long: "1h",
        short: "5m",
        factor: 14.4,
        severity: "page",
    },
    Burn {
        long: "6h",
        short: "30m",
        factor: 6.0,
        severity: "page",
    },
    Burn {
        long: "1d",
        short: "2h",
        factor: 3.0,
        severity: "ticket",
    },
    Burn {
        long: "3d",
        short: "6h",
        factor: 1.0,
        severity: "ticket",
    },
];

/// What an objective measures.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// `availability = 99.9`: at most 0.1% of calls end in a failed outcome.
    Availability,
    /// `latency = "300ms", percentile = 99.0`: at most 1% of calls slower
    /// than the threshold (in seconds).
    Latency {
        /// The threshold.
        seconds: f64,
    },
}

/// One objective of one function.
#[derive(Clone, Debug)]
pub struct Objective {
    /// The function's flow.
    pub flow: String,
    /// The function label.
    pub function: String,
    /// Availability or latency.
    pub kind: Kind,
    /// The target percentage (99.9).
    pub target: f64,
}

impl Objective {
    /// The error budget as a ratio: 0.001 for 99.9%.
    pub fn budget(&self) -> f64 {
        (((100.0 - self.target) / 100.0) * 1e12).round() / 1e12
    }

    /// `flow="checkout",function="pay"`.
    pub fn selector(&self) -> String {
        selector(&self.flow, &self.function)
    }

    /// `availability` or `latency`, as the runtime's `objective` label says.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Availability => schema::objective::AVAILABILITY,
            Kind::Latency { .. } => schema::objective::LATENCY,
        }
    }

    /// `99.9% availability`, `99% of calls under 300ms`.
    pub fn what(&self) -> String {
        match &self.kind {
            Kind::Availability => format!("{}% availability", fmt(self.target)),
            Kind::Latency { seconds } => format!(
                "{}% of calls under {}",
                fmt(self.target),
                crate::num::fmt_ms(seconds * 1000.0)
            ),
        }
    }

    /// The (bad, all) rates of this objective over `window`: failed calls
    /// and calls, or calls under the threshold and calls. The bad ratio is
    /// `bad / all` for availability and `1 - good / all` for latency.
    pub fn rates(&self, window: &str) -> (String, String) {
        let sel = self.selector();
        match &self.kind {
            Kind::Availability => failures_and_calls(&sel, window),
            Kind::Latency { seconds } => fast_and_calls(&sel, *seconds, window),
        }
    }
}

/// Every objective of the catalog, one per (flow, function, kind); a
/// second function with the same flow and name is warned about and left
/// out (its series would be the same).
pub fn objectives(functions: &[ObservedFn]) -> Vec<Objective> {
    let mut out: Vec<Objective> = Vec::new();
    let mut sorted: Vec<&ObservedFn> = functions.iter().filter(|f| f.slo.is_some()).collect();
    sorted.sort_by(|a, b| (&a.flow, &a.function).cmp(&(&b.flow, &b.function)));
    for f in sorted {
        let slo = f.slo.as_ref().expect("filtered");
        let mut push = |kind: Kind, target: f64| {
            let same_kind =
                |o: &Objective| std::mem::discriminant(&o.kind) == std::mem::discriminant(&kind);
            if out
                .iter()
                .any(|o| o.flow == f.flow && o.function == f.function && same_kind(o))
            {
                eprintln!(
                    "warning: {}:{}: another function is also named `{}` in flow `{}`; its SLO is skipped \
                     (give one of them a distinct `name`)",
                    f.file, f.line, f.function, f.flow
                );
                return;
            }
            out.push(Objective {
                flow: f.flow.clone(),
                function: f.function.clone(),
                kind,
                target,
            });
        };
        if let Some(a) = slo.availability {
            push(Kind::Availability, a);
        }
        if let (Some(seconds), Some(p)) = (slo.latency_seconds(), slo.percentile) {
            push(Kind::Latency { seconds }, p);
        }
    }
    out
}

/// A double-quoted string (JSON escaping is valid in both YAML and PromQL).
pub fn quote(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialize")
}

/// `flow="checkout",function="pay"`.
pub fn selector(flow: &str, function: &str) -> String {
    format!(
        "{}={},{}={}",
        label::FLOW,
        quote(flow),
        label::FUNCTION,
        quote(function)
    )
}

/// `outcome=~"error|panic"`: the outcomes the schema counts as failures.
pub fn failed_matcher() -> String {
    format!(
        "{}=~\"{}\"",
        label::OUTCOME,
        schema::failed_outcomes_regex()
    )
}

/// `flow_call_duration_seconds_bucket`.
pub fn duration_bucket() -> String {
    format!("{}_bucket", schema::CALL_DURATION_SECONDS.name)
}

/// `flow_call_duration_seconds_count`.
pub fn duration_count() -> String {
    format!("{}_count", schema::CALL_DURATION_SECONDS.name)
}

/// The rates of failed calls and of all calls matching `sel`.
pub fn failures_and_calls(sel: &str, window: &str) -> (String, String) {
    let calls = schema::CALLS_TOTAL.name;
    (
        format!("rate({calls}{{{sel},{}}}[{window}])", failed_matcher()),
        format!("rate({calls}{{{sel}}}[{window}])"),
    )
}

/// The rates of calls faster than `seconds` and of all calls matching `sel`.
pub fn fast_and_calls(sel: &str, seconds: f64, window: &str) -> (String, String) {
    (
        format!(
            "rate({}{{{sel},{}}}[{window}])",
            duration_bucket(),
            le_matcher(seconds)
        ),
        format!("rate({}{{{sel}}}[{window}])", duration_count()),
    )
}

/// `le="0.3"`; an integral threshold matches both `1` and `1.0`, which
/// exporters and Prometheus versions write differently.
pub fn le_matcher(seconds: f64) -> String {
    let text = fmt(seconds);
    if seconds.fract() == 0.0 {
        format!("{}=~\"{text}|{text}.0\"", label::LE)
    } else {
        format!("{}=\"{text}\"", label::LE)
    }
}
