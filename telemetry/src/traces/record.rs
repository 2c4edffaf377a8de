//! `tracing` fields to OpenTelemetry attributes, exactly as
//! tracing-opentelemetry 0.34 maps them (its `SpanAttributeVisitor` and
//! `SpanEventVisitor`, with its default semantic-convention settings): the
//! exported spans must not change when the bridge does.
//!
//! `u64`, `i128` and other values without their own `record_*` go through
//! `record_debug` and become strings, as there; `otel.*` span fields set the
//! name, kind and status instead of attributes; an `Error` value adds
//! `exception.message`/`exception.stacktrace` and `<field>.chain`.

use std::borrow::Cow;
use std::fmt;

use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{Array, Key, KeyValue, StringValue, Value};
use tracing::field::{Field, Visit};

use super::intern;

const SPAN_NAME_FIELD: &str = "otel.name";
const SPAN_KIND_FIELD: &str = "otel.kind";
const SPAN_STATUS_CODE_FIELD: &str = "otel.status_code";
const SPAN_STATUS_DESCRIPTION_FIELD: &str = "otel.status_description";
const EVENT_EXCEPTION_NAME: &str = "exception";
const FIELD_EXCEPTION_MESSAGE: &str = "exception.message";
const FIELD_EXCEPTION_STACKTRACE: &str = "exception.stacktrace";

/// What recording a span's fields changes on the span.
#[derive(Default)]
pub(crate) struct Updates {
    pub name: Option<Cow<'static, str>>,
    /// An `otel.kind` that names no kind leaves the kind as it was.
    pub kind: Option<SpanKind>,
    pub status: Option<Status>,
    pub attributes: Vec<KeyValue>,
}

fn str_to_span_kind(s: &str) -> Option<SpanKind> {
    match s {
        s if s.eq_ignore_ascii_case("server") => Some(SpanKind::Server),
        s if s.eq_ignore_ascii_case("client") => Some(SpanKind::Client),
        s if s.eq_ignore_ascii_case("producer") => Some(SpanKind::Producer),
        s if s.eq_ignore_ascii_case("consumer") => Some(SpanKind::Consumer),
        s if s.eq_ignore_ascii_case("internal") => Some(SpanKind::Internal),
        _ => None,
    }
}

fn str_to_status(s: &str) -> Status {
    match s {
        s if s.eq_ignore_ascii_case("ok") => Status::Ok,
        s if s.eq_ignore_ascii_case("error") => Status::error(""),
        _ => Status::Unset,
    }
}

/// The messages of an error's sources, outermost first.
fn source_chain(error: &(dyn std::error::Error + 'static)) -> Vec<StringValue> {
    let mut chain = Vec::new();
    let mut next = error.source();
    while let Some(source) = next {
        chain.push(source.to_string().into());
        next = source.source();
    }
    chain
}

/// Records a span's fields (on creation and on `record`).
pub(crate) struct SpanFields<'a>(pub &'a mut Updates);

impl SpanFields<'_> {
    fn push(&mut self, attribute: KeyValue) {
        self.0.attributes.push(attribute);
    }
}

impl Visit for SpanFields<'_> {
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(KeyValue::new(field.name(), value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(KeyValue::new(field.name(), value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(KeyValue::new(field.name(), value));
    }

    /// What `record_debug` makes of it, without the formatting machinery.
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name().starts_with("otel.") {
            return self.record_debug(field, &value);
        }
        self.push(KeyValue::new(field.name(), value.to_string()));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            SPAN_NAME_FIELD => self.0.name = Some(value.to_string().into()),
            SPAN_KIND_FIELD => self.0.kind = str_to_span_kind(value),
            SPAN_STATUS_CODE_FIELD => self.0.status = Some(str_to_status(value)),
            SPAN_STATUS_DESCRIPTION_FIELD => self.0.status = Some(Status::error(value.to_string())),
            _ => self.push(KeyValue::new(field.name(), intern::text(value))),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            SPAN_NAME_FIELD => self.0.name = Some(format!("{value:?}").into()),
            SPAN_KIND_FIELD => self.0.kind = str_to_span_kind(&format!("{value:?}")),
            SPAN_STATUS_CODE_FIELD => self.0.status = Some(str_to_status(&format!("{value:?}"))),
            SPAN_STATUS_DESCRIPTION_FIELD => {
                self.0.status = Some(Status::error(format!("{value:?}")));
            }
            _ => self.push(KeyValue::new(
                Key::new(field.name()),
                Value::String(format!("{value:?}").into()),
            )),
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let chain = source_chain(value);
        let message = value.to_string();
        self.push(KeyValue::new(FIELD_EXCEPTION_MESSAGE, message.clone()));
        self.push(KeyValue::new(
            FIELD_EXCEPTION_STACKTRACE,
            Value::Array(chain.clone().into()),
        ));
        self.push(KeyValue::new(field.name(), message));
        self.push(KeyValue::new(
            format!("{}.chain", field.name()),
            Value::Array(Array::String(chain)),
        ));
    }
}

/// Records an event's fields into a span event: `message` is its name, an
/// `error` field before any message makes it an `exception` event and the
/// span's status an error.
pub(crate) struct EventFields<'a> {
    pub name: &'a mut Cow<'static, str>,
    pub attributes: &'a mut Vec<KeyValue>,
    /// What the event changes on its span.
    pub span: &'a mut Option<Updates>,
}

impl EventFields<'_> {
    fn error_field(&mut self, text: String) {
        let updates = self.span.get_or_insert_with(Updates::default);
        updates.status = Some(Status::error(text.clone()));
        *self.name = Cow::Borrowed(EVENT_EXCEPTION_NAME);
        self.attributes
            .push(KeyValue::new(FIELD_EXCEPTION_MESSAGE, text));
    }
}

impl Visit for EventFields<'_> {
    fn record_bool(&mut self, field: &Field, value: bool) {
        match field.name() {
            "message" => *self.name = value.to_string().into(),
            name => self.attributes.push(KeyValue::new(name, value)),
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        match field.name() {
            "message" => *self.name = value.to_string().into(),
            name => self.attributes.push(KeyValue::new(name, value)),
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        match field.name() {
            "message" => *self.name = value.to_string().into(),
            name => self.attributes.push(KeyValue::new(name, value)),
        }
    }

    /// What `record_debug` makes of it, without the formatting machinery.
    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "message" | "error" => self.record_debug(field, &value),
            name => self.attributes.push(KeyValue::new(name, value.to_string())),
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => *self.name = value.to_string().into(),
            "error" if self.name.is_empty() => self.error_field(format!("{value:?}")),
            name => self
                .attributes
                .push(KeyValue::new(name, intern::text(value))),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => *self.name = format!("{value:?}").into(),
            "error" if self.name.is_empty() => self.error_field(format!("{value:?}")),
            name => self
                .attributes
                .push(KeyValue::new(name, format!("{value:?}"))),
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let chain = source_chain(value);
        let message = value.to_string();
        self.attributes
            .push(KeyValue::new(FIELD_EXCEPTION_MESSAGE, message.clone()));
        self.attributes.push(KeyValue::new(
            FIELD_EXCEPTION_STACKTRACE,
            Value::Array(chain.clone().into()),
        ));
        let updates = self.span.get_or_insert_with(Updates::default);
        updates
            .attributes
            .push(KeyValue::new(FIELD_EXCEPTION_MESSAGE, message.clone()));
        updates.attributes.push(KeyValue::new(
            FIELD_EXCEPTION_STACKTRACE,
            Value::Array(chain.clone().into()),
        ));
        self.attributes.push(KeyValue::new(field.name(), message));
        self.attributes.push(KeyValue::new(
            format!("{}.chain", field.name()),
            Value::Array(Array::String(chain)),
        ));
    }
}
