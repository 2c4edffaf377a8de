//! HTTP integration (feature `http`): the axum/tower [`layer`] that gives
//! every request an `x-request-id`, continues the caller's `traceparent`,
//! opens a server span named by method and route template and records the
//! RED metrics; the public [`routes`] `/healthz`, `/readyz` and
//! `/metrics`; the [`admin_routes`] `/debug/traces` and `/debug/flows`, to
//! mount on a separate loopback listener; and a [`client`] that carries `traceparent` and
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

mod admin;
mod client;
mod layer;
mod request_id;
mod routes;

pub use admin::admin_routes;
pub use client::{PropagateContext, client, client_with};
pub use layer::{ObserveLayer, ObserveService, UNMATCHED_ROUTE, layer};
pub use request_id::{REQUEST_ID_HEADER, current_request_id};
pub use reqwest_middleware::ClientWithMiddleware;
pub use routes::{Readiness, readiness, routes, routes_with};
