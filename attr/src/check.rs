//! Stage 2b: rules that involve several options or the signature. Each
//! function checks one rule, stated in its doc comment. Single-option
//! checks (literal types, ranges, duplicates) happen while parsing.

use std::collections::HashSet;

use syn::{Expr, Ident, Lit};

use crate::args::{Args, Set};
use crate::ctxt::Ctxt;
use crate::item::Binding;
use crate::model::OWN_FIELDS;
use crate::{names, suggest};

/// Every name in `skip(...)`, `redact(...)` and `hash(...)` is an argument
/// of the function (`self` only in `skip`).
pub fn names_are_params(cx: &Ctxt, args: &Args, bindings: &[Binding]) {
    let known: Vec<String> = bindings.iter().map(|b| b.ident.to_string()).collect();
    for (option, list) in [
        ("skip", &args.skip),
        ("redact", &args.redact),
        ("hash", &args.hash),
    ] {
        for ident in list.iter().flat_map(|set| &set.value) {
            let name = ident.to_string();
            if name == "self" && option != "skip" {
                cx.error_spanned_by(
                    ident,
                    format!(
                        "`self` is never recorded, so `{option}(self)` has nothing to do; remove it"
                    ),
                );
                continue;
            }
            if known.contains(&name) {
                continue;
            }
            let hint = match suggest::closest(&name, known.iter().map(String::as_str)) {
                Some(close) => format!("did you mean `{close}`?"),
                None if known.is_empty() => "the function takes no arguments".to_string(),
                None => format!("its arguments are: {}", known.join(", ")),
            };
            cx.error_spanned_by(
                ident,
                format!("`{option}({name})` names no argument of this function; {hint}"),
            );
        }
    }
}

/// An argument is listed in at most one of `skip`, `redact` and `hash`, and
/// `skip_all` stands alone.
pub fn no_conflicting_param_lists(cx: &Ctxt, args: &Args) {
    let mut seen: Vec<(&'static str, &Ident)> = Vec::new();
    for (option, list) in [
        ("skip", &args.skip),
        ("redact", &args.redact),
        ("hash", &args.hash),
    ] {
        let mut in_this = HashSet::new();
        for ident in list.iter().flat_map(|set| &set.value) {
            if !in_this.insert(ident.to_string()) {
                cx.error_spanned_by(
                    ident,
                    format!("`{ident}` is listed twice in `{option}(...)`"),
                );
                continue;
            }
            if let Some((other, _)) = seen.iter().find(|(_, seen_ident)| *seen_ident == ident) {
                cx.error_spanned_by(
                    ident,
                    format!("`{ident}` is in both `{other}(...)` and `{option}(...)`; an argument is recorded one way: keep one"),
                );
            }
            seen.push((option, ident));
        }
    }
    if args.skip_all.is_some() {
        for other in [&args.skip, &args.redact, &args.hash].into_iter().flatten() {
            cx.error_spanned_by(
                &other.key,
                format!("`{}(...)` has no effect with `skip_all`, which already leaves every argument out; remove one of them", other.key),
            );
        }
    }
}

/// Label keys are valid Prometheus names, not reserved, not
/// high-cardinality, and unique; literal values are strings.
pub fn labels(cx: &Ctxt, args: &Args) {
    let Some(Set { value: labels, .. }) = &args.labels else {
        return;
    };
    if let Some(extra) = labels.get(crate::MAX_LABELS) {
        cx.error_spanned_by(
            &extra.key_tokens,
            format!(
                "at most {} labels per function: every label multiplies the series; record the rest with `fields(...)`",
                crate::MAX_LABELS
            ),
        );
    }
    let mut seen = HashSet::new();
    for label in labels {
        let key = &label.key;
        if !names::is_valid_label_key(key) {
            let why = if key.starts_with("__") {
                "names starting with `__` are reserved for Prometheus itself"
            } else {
                "Prometheus label names match `[a-zA-Z_][a-zA-Z0-9_]*`"
            };
            cx.error_spanned_by(
                &label.key_tokens,
                format!("invalid label key `{key}`: {why}"),
            );
        } else if names::is_reserved_label_key(key) {
            cx.error_spanned_by(
                &label.key_tokens,
                format!(
                    "label key `{key}` is reserved: observe sets `flow`, `function`, `module`, `outcome` and `error_kind` itself, \
                     and Prometheus gives `le` and `quantile` a meaning; choose another name"
                ),
            );
        } else if names::is_high_cardinality_key(key) {
            cx.error_spanned_by(
                &label.key_tokens,
                format!(
                    "label key `{key}` names a high-cardinality value: every distinct {key} would create new time series \
                     and can take the metrics store down; record it as a span and log field with `fields({key} = ...)` instead"
                ),
            );
        }
        if !seen.insert(key.clone()) {
            cx.error_spanned_by(&label.key_tokens, format!("duplicate label key `{key}`"));
        }
        if let Expr::Lit(lit) = &label.value {
            match &lit.lit {
                Lit::Str(s) if s.value().is_empty() => {
                    cx.error_spanned_by(s, format!("label `{key}` has an empty value; give it a name, or remove the label"))
                }
                Lit::Str(_) => {}
                other => cx.error_spanned_by(
                    other,
                    format!(
                        "label values are strings or values of a type implementing `observe::Label`; \
                         write `{key} = \"{}\"`, or use an enum deriving `observe::Label`",
                        quote::ToTokens::to_token_stream(other)
                    ),
                ),
            }
        }
    }
}

/// Field keys are unique and do not overwrite the fields observe sets.
pub fn fields(cx: &Ctxt, args: &Args) {
    let Some(Set { value: fields, .. }) = &args.fields else {
        return;
    };
    let mut seen = HashSet::new();
    for field in fields {
        let head = field.key.split('.').next().unwrap_or_default();
        if OWN_FIELDS.contains(&field.key.as_str())
            || (OWN_FIELDS.contains(&head) && matches!(head, "code" | "otel" | "error"))
        {
            cx.error_spanned_by(
                &field.key_tokens,
                format!(
                    "field `{}` is set by observe itself; choose another name, e.g. `app.{}`",
                    field.key, field.key
                ),
            );
        }
        if !seen.insert(field.key.clone()) {
            cx.error_spanned_by(
                &field.key_tokens,
                format!("duplicate field `{}`", field.key),
            );
        }
    }
}

/// `flow` follows the flow-name syntax; `name` is not empty.
pub fn flow_and_name(cx: &Ctxt, args: &Args) {
    if let Some(flow) = &args.flow
        && let Some(problem) = names::flow_problem(&flow.value.value())
    {
        let suggestion = names::sanitize_flow(&flow.value.value());
        let hint = if suggestion.is_empty() {
            String::new()
        } else {
            format!(", e.g. flow = \"{suggestion}\"")
        };
        cx.error_spanned_by(&flow.value, format!("invalid flow name: {problem}{hint}"));
    }
    if let Some(name) = &args.name {
        let value = name.value.value();
        if value.trim().is_empty() || value.chars().any(char::is_control) {
            cx.error_spanned_by(
                &name.value,
                "`name` must be a non-empty string without control characters",
            );
        }
    }
}

/// `slo(...)` sets at least one objective, and `percentile` goes with `latency`.
pub fn slo(cx: &Ctxt, args: &Args) {
    let Some(slo) = &args.slo else { return };
    let value = &slo.value;
    if value.availability.is_none() && value.latency.is_none() && value.percentile.is_none() {
        cx.error_spanned_by(&slo.key, "`slo(...)` sets no objective: write `slo(availability = 99.9)`, `slo(latency = \"300ms\", percentile = 99.0)` or both");
    }
    if let (Some(percentile), None) = (&value.percentile, &value.latency) {
        cx.error_spanned_by(&percentile.lit, "`percentile` says what share of calls must beat a latency threshold, but no `latency` is set; add `latency = \"300ms\"`");
    }
}
