//! The server layer: request id (tower-http), trace context, server span,
//! RED metrics.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::MatchedPath;
use http::{HeaderValue, Request, Response};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use tower::{Layer, Service};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestId, SetRequestId};
use tracing::Instrument;
use tracing::field::Empty;

use super::request_id::{REQUEST_ID_HEADER, attach};
use crate::metrics::HTTP_SERVER_REQUEST_DURATION_SECONDS;

/// The `http_route` of requests no route matched (one value for all of
/// them, so a scan of random paths cannot explode the series count).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The layer for an axum `Router` (or any tower service of `http`
/// requests). Add it with `Router::layer` so the matched route template is
/// known.
pub fn layer() -> ObserveLayer {
    ObserveLayer::default()
}

/// See [`layer`].
#[derive(Debug, Clone, Default)]
pub struct ObserveLayer {
    service: Option<Arc<str>>,
}

impl ObserveLayer {
    /// Names the service this router belongs to, recorded as `service` on
    /// the server span (and so on its log lines), for a process that hosts
    /// several services.
    pub fn service(mut self, name: impl Into<String>) -> Self {
        self.service = Some(Arc::from(name.into()));
        self
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = SetRequestId<PropagateRequestId<ObserveService<S>>, MakeRequestUuid>;

    fn layer(&self, inner: S) -> Self::Service {
        let observed = ObserveService {
            inner,
            service: self.service.clone(),
        };
        SetRequestId::x_request_id(PropagateRequestId::x_request_id(observed), MakeRequestUuid)
    }
}

/// The service made by [`ObserveLayer`], inside tower-http's request-id
/// services.
#[derive(Debug, Clone)]
pub struct ObserveService<S> {
    inner: S,
    service: Option<Arc<str>>,
}

/// The method as the HTTP conventions want it: known methods, else `_OTHER`.
fn method_label(method: &http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "CONNECT" => "CONNECT",
        "TRACE" => "TRACE",
        _ => "_OTHER",
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ObserveService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let start = Instant::now();
        let method = method_label(request.method());
        let route: Arc<str> = request.extensions().get::<MatchedPath>().map_or_else(
            || Arc::from(UNMATCHED_ROUTE),
            |path| Arc::from(path.as_str()),
        );
        let request_id = request
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let parent = opentelemetry::global::get_text_map_propagator(|p| {
            p.extract(&HeaderExtractor(request.headers()))
        });

        let span = tracing::info_span!(
            "http.server.request",
            otel.name = %format_args!("{method} {route}"),
            otel.kind = "server",
            http.request.method = method,
            http.route = %route,
            url.path = %request.uri().path(),
            request_id = %request_id,
            service = Empty,
            http.response.status_code = Empty,
            otel.status_code = Empty,
        );
        if let Some(service) = &self.service {
            span.record("service", &**service);
        }
        if parent.span().span_context().is_valid() {
            // Before anything reads the span's context (which starts it).
            crate::set_parent(&span, parent);
        }
        attach(&span, &request_id);

        // The clone that was driven to readiness serves this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let mut outcome = RequestOutcome {
            span: span.clone(),
            start,
            method,
            route,
            done: false,
        };
        Box::pin(async move {
            let mut result = inner.call(request).instrument(span.clone()).await;
            let status = match &result {
                Ok(response) => response.status().as_u16(),
                Err(_) => 500,
            };
            outcome.record(status);
            if let Ok(response) = &mut result {
                // The caller can find this trace by its id.
                let context = crate::context_of(&span);
                opentelemetry::global::get_text_map_propagator(|p| {
                    p.inject_context(&context, &mut HeaderInjector(response.headers_mut()))
                });
                if !response.headers().contains_key(REQUEST_ID_HEADER)
                    && let Ok(value) = HeaderValue::from_str(&request_id)
                {
                    response.headers_mut().insert(REQUEST_ID_HEADER, value);
                }
            }
            result
        })
    }
}

/// Records the end of a request: span status, the duration histogram and
/// one log line. Dropped unrecorded (the client went away and the server
/// dropped the handler), it records status 499.
struct RequestOutcome {
    span: tracing::Span,
    start: Instant,
    method: &'static str,
    route: Arc<str>,
    done: bool,
}

/// The status recorded for requests the client abandoned (nginx's 499).
const CLIENT_CLOSED: u16 = 499;

impl RequestOutcome {
    fn record(&mut self, status: u16) {
        self.done = true;
        let seconds = self.start.elapsed().as_secs_f64();
        self.span.record("http.response.status_code", status);
        if status >= 500 {
            self.span.record("otel.status_code", "ERROR");
        }
        // Bounded: the method is one of the standard set or `_OTHER`, the route
        // is a matched template or `unmatched`, the status a three-digit code.
        // cargo-observe: allow(OBS002)
        metrics::histogram!(
            HTTP_SERVER_REQUEST_DURATION_SECONDS,
            "http_request_method" => self.method,
            "http_route" => self.route.to_string(),
            "http_response_status_code" => status.to_string(),
        )
        .record(seconds);
        let duration_ms = seconds * 1e3;
        self.span.in_scope(|| {
            if status >= 500 {
                tracing::error!(
                    http.response.status_code = status,
                    duration_ms,
                    "request failed"
                );
            } else if status == CLIENT_CLOSED {
                tracing::warn!(
                    http.response.status_code = status,
                    duration_ms,
                    "the client closed the connection before the response"
                );
            } else {
                tracing::info!(
                    http.response.status_code = status,
                    duration_ms,
                    "request completed"
                );
            }
        });
    }
}

impl Drop for RequestOutcome {
    fn drop(&mut self) {
        if !self.done {
            self.record(CLIENT_CLOSED);
        }
    }
}
