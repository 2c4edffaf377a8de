//! Stage 3: the validated description of one instrumented function, what
//! code generation and the linter's catalog read.

use proc_macro2::Span;
use syn::{Expr, Ident, Signature, Type};

use crate::args::{Args, FieldSigil};
use crate::ctxt::Ctxt;
use crate::{check, item, names};

/// The default cardinality budget: label combinations times outcomes.
pub const DEFAULT_MAX_SERIES: u64 = 256;

/// A `tracing` level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// `trace`.
    Trace,
    /// `debug`.
    Debug,
    /// `info`, the default.
    Info,
    /// `warn`.
    Warn,
    /// `error`.
    Error,
}

impl Level {
    /// The level a lowercase name means.
    pub fn from_name(name: &str) -> Option<Level> {
        Some(match name {
            "trace" => Level::Trace,
            "debug" => Level::Debug,
            "info" => Level::Info,
            "warn" => Level::Warn,
            "error" => Level::Error,
            _ => return None,
        })
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }

    /// The constant's name in `tracing::Level`.
    pub fn const_name(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }
}

/// Where the attribute sits, which decides the default span name.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// The `Self` type's name when the attribute came from an annotated
    /// `impl` block (`Cart` for `impl Cart`).
    pub impl_type: Option<String>,
}

/// How the span and log name the function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FunctionName {
    /// Known at compile time.
    Static(String),
    /// A method with a receiver annotated on its own: `Type::method`, with
    /// the type's name read from `Self` at run time (the attribute cannot
    /// see the enclosing impl). The string is the method's name.
    SelfQualified(String),
}

impl FunctionName {
    /// The name as a catalog shows it (`Self::method` when the type is only
    /// known at run time).
    pub fn display(&self) -> String {
        match self {
            FunctionName::Static(name) => name.clone(),
            FunctionName::SelfQualified(method) => format!("Self::{method}"),
        }
    }

    /// The name the span gets when it must be a compile-time string.
    pub fn static_part(&self) -> &str {
        match self {
            FunctionName::Static(name) | FunctionName::SelfQualified(name) => name,
        }
    }
}

/// A metric label value.
// A handful exist per attribute, at compile time: boxing the expression buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum LabelValue {
    /// A string literal: one value, cardinality 1.
    Literal(String),
    /// An expression whose type implements `observe::Label`.
    Expr(Expr),
}

/// One extra metric label.
#[derive(Clone, Debug)]
pub struct Label {
    /// The key, snake_case.
    pub key: String,
    /// Where the key is.
    pub key_span: Span,
    /// The value.
    pub value: LabelValue,
    /// The declared type when the value is a bare argument of the
    /// signature (`labels(tier = tier)` with `tier: Tier`), which lets the
    /// budget be checked before code generation.
    pub declared_type: Option<Type>,
}

/// One extra span field.
#[derive(Clone, Debug)]
pub struct FieldValue {
    /// The field name.
    pub key: String,
    /// How the value is recorded.
    pub sigil: FieldSigil,
    /// The value.
    pub value: Expr,
    /// The key names a secret: the value is recorded as `[REDACTED]`.
    pub redacted: bool,
}

/// How an argument is recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recording {
    /// Its value, through `Debug` (scrubbed and truncated), when it has one.
    Value,
    /// Not at all (`skip`, `skip_all`, or `self`).
    Skipped,
    /// As `"[REDACTED]"`: named in `redact(...)`.
    Redacted,
    /// As `"[REDACTED]"` because its name looks like a secret.
    RedactedByName,
    /// As a keyed hash: named in `hash(...)`.
    Hashed,
}

/// An argument of the function and how it is recorded.
#[derive(Clone, Debug)]
pub struct Param {
    /// The bound name.
    pub ident: Ident,
    /// The declared type, when the binding is the whole argument.
    pub ty: Option<Type>,
    /// How it is recorded.
    pub recording: Recording,
    /// The span field name: the argument's name, or `arg.<name>` when the
    /// name would collide with a field the macro sets itself.
    pub field_name: String,
    /// Where and how the signature binds it.
    pub binding: item::Binding,
}

/// Service-level objectives.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Slo {
    /// Percentage of calls that must succeed, e.g. 99.9.
    pub availability: Option<f64>,
    /// Latency threshold in microseconds.
    pub latency_us: Option<u64>,
    /// Percentage of calls that must be under the threshold, e.g. 99.0.
    pub percentile: Option<f64>,
}

/// The validated description of one instrumented function.
#[derive(Clone, Debug)]
pub struct AnnotatedFn {
    /// The function's identifier, `r#` removed.
    pub fn_name: String,
    /// The business flow.
    pub flow: String,
    /// The span name and `function` label.
    pub name: FunctionName,
    /// The span's and success line's level.
    pub level: Level,
    /// `labels(...)`, in order.
    pub labels: Vec<Label>,
    /// `fields(...)`, in order.
    pub fields: Vec<FieldValue>,
    /// Every argument binding and how it is recorded.
    pub params: Vec<Param>,
    /// `ret`: record the return value.
    pub ret: bool,
    /// The slow threshold, microseconds.
    pub slow_us: Option<u64>,
    /// The sampled fraction of success lines.
    pub sample: Option<f64>,
    /// Service-level objectives.
    pub slo: Option<Slo>,
    /// The cardinality budget.
    pub max_series: u64,
    /// An `async fn`.
    pub is_async: bool,
}

/// Span and event fields the macro sets itself; arguments with these names
/// are recorded as `arg.<name>`.
pub use crate::schema::OWN_FIELDS;

impl AnnotatedFn {
    /// Builds the model, reporting every rule violation into `cx`.
    pub fn build(cx: &Ctxt, args: &Args, sig: &Signature, context: &Context) -> AnnotatedFn {
        if let Err(e) = item::check_signature(sig) {
            cx.syn_error(e);
        }
        if let Some(opt_out) = &args.opt_out {
            cx.error_spanned_by(
                &opt_out.key,
                "bare `skip` opts a method out of an annotated impl block and does nothing here; \
                 remove #[observe] to stop observing this function, or write `skip(arg, ...)` to leave arguments out",
            );
        }
        let bindings = item::bindings(sig);
        check::names_are_params(cx, args, &bindings);
        check::no_conflicting_param_lists(cx, args);
        check::labels(cx, args);
        check::fields(cx, args);
        check::flow_and_name(cx, args);
        check::slo(cx, args);

        let fn_name = sig.ident.to_string().trim_start_matches("r#").to_string();
        let flow = match &args.flow {
            Some(set) => set.value.value(),
            None => names::default_flow(&fn_name),
        };
        let name = match (&args.name, &context.impl_type, sig.receiver()) {
            (Some(set), _, _) => FunctionName::Static(set.value.value()),
            (None, Some(ty), _) => FunctionName::Static(format!("{ty}::{fn_name}")),
            (None, None, Some(_)) => FunctionName::SelfQualified(fn_name.clone()),
            (None, None, None) => FunctionName::Static(fn_name.clone()),
        };
        let labels = args
            .labels
            .iter()
            .flat_map(|set| &set.value)
            .map(|arg| {
                let value = match &arg.value {
                    Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => LabelValue::Literal(s.value()),
                    other => LabelValue::Expr(other.clone()),
                };
                Label {
                    key: arg.key.clone(),
                    key_span: arg.key_span,
                    declared_type: declared_type(&arg.value, &bindings, &sig.generics),
                    value,
                }
            })
            .collect::<Vec<_>>();
        let max_series = args
            .max_series
            .as_ref()
            .map_or(DEFAULT_MAX_SERIES, |s| s.value.value);

        let fields = args
            .fields
            .iter()
            .flat_map(|set| &set.value)
            .map(|f| FieldValue {
                key: f.key.clone(),
                sigil: f.sigil,
                value: f.value.clone(),
                redacted: names::is_secret_name(&f.key),
            })
            .collect();

        AnnotatedFn {
            fn_name,
            flow,
            name,
            level: args.level.as_ref().map_or(Level::Info, |s| s.value.value),
            labels,
            fields,
            params: params(args, &bindings),
            ret: args.ret.is_some(),
            slow_us: args.slow.as_ref().map(|s| s.value.value),
            sample: args.sample.as_ref().map(|s| s.value.value),
            slo: args.slo.as_ref().map(|s| Slo {
                availability: s.value.availability.as_ref().map(|c| c.value),
                latency_us: s.value.latency.as_ref().map(|c| c.value),
                percentile: s
                    .value
                    .latency
                    .as_ref()
                    .map(|_| s.value.percentile.as_ref().map_or(99.0, |c| c.value)),
            }),
            max_series,
            is_async: sig.asyncness.is_some(),
        }
    }

    /// Whether every label's cardinality is known before type checking
    /// (literals, or arguments whose declared type can be named).
    pub fn labels_nameable(&self) -> bool {
        self.labels
            .iter()
            .all(|l| matches!(l.value, LabelValue::Literal(_)) || l.declared_type.is_some())
    }
}

fn params(args: &Args, bindings: &[item::Binding]) -> Vec<Param> {
    let listed = |list: &Option<crate::args::Set<Vec<Ident>>>, ident: &Ident| {
        list.as_ref()
            .is_some_and(|set| set.value.iter().any(|i| i == ident))
    };
    bindings
        .iter()
        .map(|binding| {
            let ident = &binding.ident;
            let name = ident.to_string().trim_start_matches("r#").to_string();
            // A parameter that may be configured out is not named.
            let recording = if binding.is_self
                || !binding.cfg.is_empty()
                || args.skip_all.is_some()
                || listed(&args.skip, ident)
            {
                Recording::Skipped
            } else if listed(&args.hash, ident) {
                Recording::Hashed
            } else if listed(&args.redact, ident) {
                Recording::Redacted
            } else if names::is_secret_name(&name)
                || binding.field.as_deref().is_some_and(names::is_secret_name)
            {
                Recording::RedactedByName
            } else {
                Recording::Value
            };
            let field_name = if OWN_FIELDS.contains(&name.as_str()) {
                format!("arg.{name}")
            } else {
                name
            };
            Param {
                ident: ident.clone(),
                ty: binding.ty.clone(),
                recording,
                field_name,
                binding: binding.clone(),
            }
        })
        .collect()
}

/// The declared type of a label value that is a bare argument, when it
/// can be named outside the function (no generics, `Self` or `impl`).
fn declared_type(
    value: &Expr,
    bindings: &[item::Binding],
    generics: &syn::Generics,
) -> Option<Type> {
    let Expr::Path(path) = value else { return None };
    let ident = path.path.get_ident()?;
    let binding = bindings.iter().find(|b| &b.ident == ident)?;
    let ty = binding.ty.clone()?;
    let ty = match ty {
        Type::Reference(r) => *r.elem,
        other => other,
    };
    let generic =
        |name: &Ident| generics.type_params().any(|p| &p.ident == name) || looks_generic(name);
    let uses_generic = match &ty {
        Type::Path(p) => p.path.segments.len() == 1 && generic(&p.path.segments[0].ident),
        _ => false,
    };
    (is_nameable(&ty) && !uses_generic).then_some(ty)
}

/// `T`, `E`, `K2`: names that are by convention generic parameters, which
/// may belong to an enclosing impl the attribute cannot see.
fn looks_generic(name: &Ident) -> bool {
    let text = name.to_string();
    text.len() <= 2
        && text
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// A type that can be written in a `const` item outside the function: a
/// plain path without generic arguments, `Self` or `impl Trait`.
fn is_nameable(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => {
            p.qself.is_none()
                && p.path
                    .segments
                    .iter()
                    .all(|s| s.arguments.is_none() && s.ident != "Self")
                && !p.path.segments.is_empty()
        }
        Type::Paren(p) => is_nameable(&p.elem),
        _ => false,
    }
}
