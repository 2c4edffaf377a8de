//! The outgoing client: reqwest with reqwest-tracing's client spans, plus
//! our own middleware that injects `traceparent` (reqwest-tracing's
//! OpenTelemetry support lags our OpenTelemetry version) and forwards the
//! current request's `x-request-id`.

use http::{Extensions, HeaderValue};
use opentelemetry_http::HeaderInjector;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, Middleware, Next};
use reqwest_tracing::TracingMiddleware;

use super::request_id::{REQUEST_ID_HEADER, current_request_id};

/// A client that continues the current trace in the next service.
pub fn client() -> ClientWithMiddleware {
    client_with(reqwest::Client::new())
}

/// Wraps a configured reqwest client the same way as [`client`].
pub fn client_with(client: reqwest::Client) -> ClientWithMiddleware {
    ClientBuilder::new(client)
        .with(TracingMiddleware::default())
        .with(PropagateContext)
        .build()
}

/// Injects `traceparent` from the current span (the client span, when
/// after `TracingMiddleware`) and the current request's `x-request-id`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PropagateContext;

#[async_trait::async_trait]
impl Middleware for PropagateContext {
    async fn handle(
        &self,
        mut request: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let context = crate::context_of(&tracing::Span::current());
        opentelemetry::global::get_text_map_propagator(|p| {
            p.inject_context(&context, &mut HeaderInjector(request.headers_mut()))
        });
        if !request.headers().contains_key(REQUEST_ID_HEADER)
            && let Some(id) = current_request_id()
            && let Ok(value) = HeaderValue::from_str(&id)
        {
            request.headers_mut().insert(REQUEST_ID_HEADER, value);
        }
        next.run(request, extensions).await
    }
}
