//! The public routes `/healthz`, `/readyz` and `/metrics` (the admin
//! routes, `/debug/*`, are in `admin`).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock, RwLock};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde_json::json;

type CheckFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type Check = Arc<dyn Fn() -> CheckFuture + Send + Sync>;

/// Named readiness checks; `/readyz` answers 200 only when all pass.
#[derive(Clone, Default)]
pub struct Readiness {
    checks: Arc<RwLock<Vec<(String, Check)>>>,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.read().iter().map(|(name, _)| name.clone()).collect();
        f.debug_struct("Readiness").field("checks", &names).finish()
    }
}

impl Readiness {
    /// No checks (always ready).
    pub fn new() -> Self {
        Readiness::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<(String, Check)>> {
        self.checks
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a check: an async function that returns `Err(reason)`
    /// while the dependency it checks is not usable.
    pub fn add<F, Fut, E>(&self, name: impl Into<String>, check: F) -> &Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display,
    {
        let check: Check = Arc::new(move || {
            let future = check();
            Box::pin(async move { future.await.map_err(|e| e.to_string()) })
        });
        self.checks
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((name.into(), check));
        self
    }

    /// Runs every check; the failing ones, with their reasons.
    pub async fn failing(&self) -> Vec<(String, String)> {
        let checks: Vec<(String, Check)> = self.read().clone();
        let mut failing = Vec::new();
        for (name, check) in checks {
            if let Err(reason) = check().await {
                failing.push((name, reason));
            }
        }
        failing
    }
}

/// The process-wide readiness checks used by [`routes`].
pub fn readiness() -> &'static Readiness {
    static GLOBAL: OnceLock<Readiness> = OnceLock::new();
    GLOBAL.get_or_init(Readiness::new)
}

/// The public routes, with the process-wide [`readiness`] checks.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    routes_with(readiness().clone())
}

/// The public routes, with these readiness checks.
pub fn routes_with<S: Clone + Send + Sync + 'static>(checks: Readiness) -> Router<S> {
    Router::new()
        .route(
            "/healthz",
            get(|| async { (StatusCode::OK, Json(json!({"status": "ok"}))) }),
        )
        .route("/readyz", get(move || readyz(checks.clone())))
        .route("/metrics", get(metrics))
}

async fn readyz(checks: Readiness) -> Response {
    let failing = checks.failing().await;
    if failing.is_empty() {
        (StatusCode::OK, Json(json!({"status": "ready"}))).into_response()
    } else {
        let failing: Vec<_> = failing
            .into_iter()
            .map(|(check, error)| json!({"check": check, "error": error}))
            .collect();
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "not ready", "failing": failing})),
        )
            .into_response()
    }
}

/// The OpenMetrics text (with exemplars) when the scraper asks for it, as
/// Prometheus does; the classic text otherwise.
async fn metrics(headers: axum::http::HeaderMap) -> Response {
    match crate::metrics_handle() {
        Some(handle) => {
            let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
            let (content_type, body) = handle.render_for(accept);
            ([(header::CONTENT_TYPE, content_type)], body).into_response()
        }
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the metrics exporter is not installed (call observe::init)\n",
        )
            .into_response(),
    }
}
