//! HTTP integration (feature `http`): the axum/tower [`layer`] that gives
//! every request an `x-request-id`, continues the caller's `traceparent`,
//! opens a server span named by method and route template and records the
//! RED metrics; the [`routes`] `/healthz`, `/readyz`, `/metrics` and
//! `/debug/traces`; and a [`client`] that carries `traceparent` and
//! `x-request-id` to the next service.
//!
//! ```no_run
//! use axum::{Router, routing::get};
//!
//! let app: Router = Router::new()
//!     .route("/orders/{id}", get(|| async { "order" }))
//!     .merge(observe_telemetry::http::routes())
//!     .layer(observe_telemetry::http::layer());
//! ```

mod client;
mod layer;
mod request_id;
mod routes;

pub use client::{PropagateContext, client, client_with};
pub use layer::{ObserveLayer, ObserveService, UNMATCHED_ROUTE, layer};
pub use request_id::{REQUEST_ID_HEADER, current_request_id};
pub use reqwest_middleware::ClientWithMiddleware;
pub use routes::{Readiness, readiness, routes, routes_with};
