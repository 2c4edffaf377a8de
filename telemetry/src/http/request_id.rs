//! The request id of the request being handled, kept on its server span
//! so that code running inside it (the outgoing client) can forward it.

use tracing::Span;
use tracing_subscriber::Registry;
use tracing_subscriber::registry::LookupSpan;

/// The request id header.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

#[derive(Clone)]
struct RequestId(String);

/// Stores `id` on `span`.
pub(crate) fn attach(span: &Span, id: &str) {
    span.with_subscriber(|(span_id, dispatch)| {
        if let Some(registry) = dispatch.downcast_ref::<Registry>()
            && let Some(span) = registry.span(span_id)
        {
            span.extensions_mut().insert(RequestId(id.to_owned()));
        }
    });
}

/// The request id of the innermost enclosing request, if any.
pub fn current_request_id() -> Option<String> {
    let current = Span::current();
    current
        .with_subscriber(|(span_id, dispatch)| {
            let registry = dispatch.downcast_ref::<Registry>()?;
            let span = registry.span(span_id)?;
            span.scope()
                .find_map(|span| span.extensions().get::<RequestId>().map(|id| id.0.clone()))
        })
        .flatten()
}
