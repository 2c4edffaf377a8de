//! The exposition formats: the classic Prometheus text (0.0.4), which
//! `promtool check metrics` reads, and the OpenMetrics text (1.0.0), which
//! carries the exemplars and which Prometheus asks for.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use super::registry::{Family, Kind, Labels, OVERFLOW_LABEL, Series};
use super::series::Exemplar;

/// Which text format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Prometheus,
    OpenMetrics,
}

fn escape(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn escape_help(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' => out.push('"'),
            c => out.push(c),
        }
    }
}

/// A float as both formats spell it.
pub(crate) fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        format!("{value}")
    }
}

fn labels(set: &[(String, String)], extra: Option<(&str, &str)>, out: &mut String) {
    if set.is_empty() && extra.is_none() {
        return;
    }
    out.push('{');
    let mut first = true;
    for (key, value) in set
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(extra)
    {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(key);
        out.push_str("=\"");
        escape(value, out);
        out.push('"');
    }
    out.push('}');
}

fn exemplar(format: Format, exemplar: Option<Exemplar>, out: &mut String) {
    if format != Format::OpenMetrics {
        return;
    }
    if let Some(e) = exemplar {
        let _ = write!(
            out,
            " # {{trace_id=\"{:032x}\",span_id=\"{:016x}\"}} {} {}.{:03}",
            e.trace_id,
            e.span_id,
            number(e.value),
            e.at_ms / 1000,
            e.at_ms % 1000
        );
    }
}

fn overflow_labels() -> Labels {
    vec![(OVERFLOW_LABEL.to_owned(), "true".to_owned())]
}

/// Renders every family, sorted by name.
pub(crate) fn render(
    families: &BTreeMap<String, Family>,
    descriptions: &HashMap<String, String>,
    format: Format,
) -> String {
    let mut out = String::with_capacity(4096);
    for (name, family) in families {
        if family.series.is_empty() && family.overflow.is_none() {
            continue;
        }
        let overflow = family.overflow.clone().map(|s| (overflow_labels(), s));
        let all = family.series.iter().cloned().chain(overflow);
        // OpenMetrics names a counter family without its `_total`; a counter
        // without the suffix is typed `unknown` so its series keep their name.
        let (family_name, type_name) = match (family.kind, format) {
            (Kind::Counter, Format::OpenMetrics) => match name.strip_suffix("_total") {
                Some(stem) => (stem, "counter"),
                None => (name.as_str(), "unknown"),
            },
            (Kind::Counter, Format::Prometheus) => (name.as_str(), "counter"),
            (Kind::Gauge, _) => (name.as_str(), "gauge"),
            (Kind::Histogram, _) => (name.as_str(), "histogram"),
        };
        if let Some(help) = descriptions.get(name) {
            let _ = write!(out, "# HELP {family_name} ");
            escape_help(help, &mut out);
            out.push('\n');
        }
        let _ = writeln!(out, "# TYPE {family_name} {type_name}");
        for (set, series) in all {
            match series {
                Series::Counter(c) => {
                    out.push_str(name);
                    labels(&set, None, &mut out);
                    let _ = write!(out, " {}", c.get());
                    if type_name == "counter" {
                        exemplar(format, c.exemplar.promoted(), &mut out);
                    }
                    out.push('\n');
                }
                Series::Gauge(g) => {
                    out.push_str(name);
                    labels(&set, None, &mut out);
                    let _ = writeln!(out, " {}", number(g.get()));
                }
                Series::Histogram(h) => {
                    let snapshot = h.snapshot();
                    let mut cumulative = 0;
                    for (i, count) in snapshot.counts.iter().enumerate() {
                        cumulative += count;
                        let le = h
                            .bounds
                            .get(i)
                            .map_or_else(|| "+Inf".to_owned(), |b| number(*b));
                        let _ = write!(out, "{name}_bucket");
                        labels(&set, Some(("le", &le)), &mut out);
                        let _ = write!(out, " {cumulative}");
                        exemplar(format, h.exemplars[i].promoted(), &mut out);
                        out.push('\n');
                    }
                    let _ = write!(out, "{name}_sum");
                    labels(&set, None, &mut out);
                    let _ = writeln!(out, " {}", number(snapshot.sum));
                    let _ = write!(out, "{name}_count");
                    labels(&set, None, &mut out);
                    let _ = writeln!(out, " {}", snapshot.count);
                }
            }
        }
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}
