//! The two services of the checkout demo, their observed business
//! functions, the injected faults and the load generator. Shared by the
//! demo's `main.rs` and by the real-component tests (`tests/checkout_*.rs`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use observe::http::ClientWithMiddleware;
use observe::{Label, observe};
use serde_json::{Value, json};

/// A card number that passes the Luhn check: it must never reach the logs.
pub const DEMO_CARD: &str = "4111 1111 1111 1111";
/// A bearer token sent by the load generator: it must never reach the logs.
pub const DEMO_TOKEN: &str = "sk_live_51HdemoSECRETtoken0000";
/// A password sent in the request body: it must never reach the logs.
pub const DEMO_PASSWORD: &str = "correct-horse-battery-staple";

/// How often things go wrong.
#[derive(Debug, Clone, Copy)]
pub struct Faults {
    /// Share of payment attempts where the provider hangs past the client's timeout.
    pub payment_timeout: f64,
    /// Share of payments the provider declines.
    pub payment_decline: f64,
    /// Share of inventory queries that are slow.
    pub slow_inventory: f64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            payment_timeout: 0.02,
            payment_decline: 0.02,
            slow_inventory: 0.05,
        }
    }
}

/// Why a checkout fails; each variant is an `error_kind` label value.
#[derive(Debug, Label)]
pub enum CheckoutError {
    OutOfStock,
    PaymentTimeout,
    PaymentDeclined,
    PaymentUnavailable,
}

impl std::fmt::Display for CheckoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CheckoutError::OutOfStock => "the item is out of stock",
            CheckoutError::PaymentTimeout => "the payment provider did not answer in time",
            CheckoutError::PaymentDeclined => "the payment was declined",
            CheckoutError::PaymentUnavailable => "the payment provider failed",
        })
    }
}

impl CheckoutError {
    fn status(&self) -> StatusCode {
        match self {
            CheckoutError::OutOfStock => StatusCode::CONFLICT,
            CheckoutError::PaymentDeclined => StatusCode::PAYMENT_REQUIRED,
            CheckoutError::PaymentTimeout => StatusCode::GATEWAY_TIMEOUT,
            CheckoutError::PaymentUnavailable => StatusCode::BAD_GATEWAY,
        }
    }
}

/// Why the provider refuses a payment.
#[derive(Debug, Label)]
pub enum PaymentError {
    Declined,
}

impl std::fmt::Display for PaymentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("insufficient funds")
    }
}

/// A cheap shared random source (the demo needs no cryptographic quality).
pub fn chance(probability: f64) -> bool {
    static STATE: AtomicU64 = AtomicU64::new(0x9E37_79B9_7F4A_7C15);
    let mut x = STATE.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    ((x >> 11) as f64 / (1u64 << 53) as f64) < probability
}

// ---------------------------------------------------------------- shop

/// The shop's shared state.
#[derive(Clone)]
pub struct Shop {
    payment_url: String,
    client: ClientWithMiddleware,
    faults: Faults,
}

#[observe(flow = "checkout", skip(shop), hash(email), slow = "300ms")]
async fn checkout(
    shop: &Shop,
    sku: u32,
    quantity: u32,
    card_number: &str,
    email: &str,
) -> Result<u64, CheckoutError> {
    reserve_inventory(shop, sku, quantity).await?;
    let amount_cents = 1_999 * u64::from(quantity);
    let auth_code = authorize_payment(shop, amount_cents, card_number).await?;
    send_confirmation(email, &auth_code).await;
    Ok(amount_cents)
}

#[observe(flow = "inventory", skip(shop), slow = "100ms")]
async fn reserve_inventory(shop: &Shop, sku: u32, quantity: u32) -> Result<(), CheckoutError> {
    let query_ms = if chance(shop.faults.slow_inventory) {
        150 + (sku as u64 * 17) % 200
    } else {
        2 + sku as u64 % 5
    };
    if query_ms > 100 {
        tracing::warn!(
            sku,
            query_ms,
            "inventory query is slow: the stock table scan missed its index"
        );
    }
    tokio::time::sleep(Duration::from_millis(query_ms)).await;
    if sku == 13 {
        return Err(CheckoutError::OutOfStock);
    }
    let _ = quantity;
    Ok(())
}

/// Up to three attempts, 250 ms each: a hanging provider makes retries pile up.
#[observe(flow = "payment", skip(shop), slow = "300ms")]
async fn authorize_payment(
    shop: &Shop,
    amount_cents: u64,
    card_number: &str,
) -> Result<String, CheckoutError> {
    // Retries reuse the payment's idempotency key.
    static NEXT_KEY: AtomicU64 = AtomicU64::new(1);
    let payment_key = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
    let mut attempt = 1;
    loop {
        match call_payment_provider(shop, payment_key, amount_cents, card_number, attempt).await {
            Err(CheckoutError::PaymentTimeout) if attempt < 3 => {
                tracing::warn!(attempt, "payment provider timed out; retrying");
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[observe(flow = "payment", skip(shop))]
async fn call_payment_provider(
    shop: &Shop,
    payment_key: u64,
    amount_cents: u64,
    card_number: &str,
    attempt: u32,
) -> Result<String, CheckoutError> {
    // DEBUG: not written under the default `info` filter, but held for the
    // trace and written if it fails (section 3 of the report shows them).
    tracing::debug!(attempt, payment_key, "calling the payment provider");
    let request = shop
        .client
        .post(format!("{}/authorize", shop.payment_url))
        .header("content-type", "application/json")
        .timeout(Duration::from_millis(250))
        .body(json!({"amount_cents": amount_cents, "card_number": card_number, "attempt": attempt, "payment_key": payment_key}).to_string())
        .send();
    let response = match request.await {
        Ok(response) => response,
        Err(error) if error.is_timeout() => {
            tracing::debug!(
                attempt,
                timeout_ms = 250,
                "no answer from the payment provider within the timeout"
            );
            return Err(CheckoutError::PaymentTimeout);
        }
        Err(_) => return Err(CheckoutError::PaymentUnavailable),
    };
    let status = response.status();
    tracing::debug!(
        attempt,
        "http.response.status_code" = status.as_u16(),
        "payment provider answered"
    );
    let text = response.text().await.unwrap_or_default();
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| json!({}));
    match status.as_u16() {
        200 => Ok(body["auth_code"].as_str().unwrap_or_default().to_owned()),
        402 => Err(CheckoutError::PaymentDeclined),
        _ => Err(CheckoutError::PaymentUnavailable),
    }
}

#[observe(flow = "notification", hash(email))]
async fn send_confirmation(email: &str, auth_code: &str) {
    let _recipient = email; // a real service hands it to the mailer here
    tokio::time::sleep(Duration::from_millis(3)).await;
    // cargo-observe: allow(OBS003) -- logged the old way on purpose: `auth_code` is redacted by name on the way out
    tracing::info!(auth_code, "confirmation e-mail queued");
}

async fn checkout_handler(State(shop): State<Shop>, headers: HeaderMap, body: String) -> Response {
    // Code written before adoption logs whole requests; redaction covers it.
    tracing::info!(?headers, body = %body, "checkout request received");
    let order: Value = serde_json::from_str(&body).unwrap_or_else(|_| json!({}));
    let sku = order["sku"].as_u64().unwrap_or(1) as u32;
    let quantity = order["quantity"].as_u64().unwrap_or(1) as u32;
    let card_number = order["card_number"].as_str().unwrap_or_default().to_owned();
    let email = order["email"].as_str().unwrap_or_default().to_owned();
    match checkout(&shop, sku, quantity, &card_number, &email).await {
        Ok(amount_cents) => (
            StatusCode::OK,
            Json(json!({"status": "paid", "amount_cents": amount_cents})),
        )
            .into_response(),
        Err(error) => (
            error.status(),
            Json(json!({"status": "failed", "error": error.to_string()})),
        )
            .into_response(),
    }
}

async fn order_handler(Path(id): Path<u64>) -> Json<Value> {
    Json(json!({"order_id": id, "status": "paid"}))
}

/// The shop API: `POST /checkout`, `GET /orders/{id}`, and the observe routes.
pub fn shop_router(payment_url: String, faults: Faults) -> Router {
    let shop = Shop {
        payment_url,
        client: observe::http::client(),
        faults,
    };
    Router::new()
        .route("/checkout", post(checkout_handler))
        .route("/orders/{id}", get(order_handler))
        .with_state(shop)
        .merge(observe::http::routes())
        .layer(observe::http::layer().service("shop"))
}

// ------------------------------------------------------------- payment

#[observe(flow = "payment_provider", slow = "200ms")]
async fn authorize(
    amount_cents: u64,
    card_number: &str,
    hang: bool,
    decline: bool,
) -> Result<String, PaymentError> {
    if hang {
        tracing::warn!("card network link saturated; request queued");
        tokio::time::sleep(Duration::from_millis(1_200)).await;
    } else {
        tokio::time::sleep(Duration::from_millis(8 + amount_cents % 13)).await;
    }
    if decline || card_number.is_empty() {
        return Err(PaymentError::Declined);
    }
    Ok(format!("AUTH-{:06}", amount_cents * 7 % 1_000_000))
}

/// The provider's idempotency locks: a payment whose first attempt hangs
/// keeps its key locked, so the shop's retries of it hang too (and pile up).
fn payment_locked(key: u64, hang_probability: f64) -> bool {
    static LOCKS: std::sync::Mutex<Vec<(u64, Instant)>> = std::sync::Mutex::new(Vec::new());
    let mut locks = LOCKS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let now = Instant::now();
    locks.retain(|(_, until)| *until > now);
    if locks.iter().any(|(locked, _)| *locked == key) {
        return true;
    }
    if chance(hang_probability) {
        locks.push((key, now + Duration::from_millis(1_200)));
        return true;
    }
    false
}

async fn authorize_handler(State(faults): State<Faults>, body: String) -> Response {
    tracing::info!(body = %body, "authorization request received");
    let request: Value = serde_json::from_str(&body).unwrap_or_else(|_| json!({}));
    let amount_cents = request["amount_cents"].as_u64().unwrap_or(0);
    let card_number = request["card_number"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let hang = payment_locked(
        request["payment_key"].as_u64().unwrap_or(0),
        faults.payment_timeout,
    );
    let decline = chance(faults.payment_decline);
    match authorize(amount_cents, &card_number, hang, decline).await {
        Ok(code) => (StatusCode::OK, Json(json!({"auth_code": code}))).into_response(),
        Err(error) => (
            StatusCode::PAYMENT_REQUIRED,
            Json(json!({"error": error.to_string()})),
        )
            .into_response(),
    }
}

/// The payment provider: `POST /authorize`, and the observe routes.
pub fn payment_router(faults: Faults) -> Router {
    Router::new()
        .route("/authorize", post(authorize_handler))
        .with_state(faults)
        .merge(observe::http::routes())
        .layer(observe::http::layer().service("payments"))
}

// ------------------------------------------------------------- serving

/// The two services, serving on loopback.
pub struct Services {
    pub shop: SocketAddr,
    pub payment: SocketAddr,
}

impl Services {
    pub fn shop_url(&self) -> String {
        format!("http://{}", self.shop)
    }
}

/// Binds both services (port 0 picks free ports) and serves them in the background.
pub async fn start(
    shop_addr: SocketAddr,
    payment_addr: SocketAddr,
    faults: Faults,
) -> std::io::Result<Services> {
    let payment_listener = tokio::net::TcpListener::bind(payment_addr).await?;
    let payment = payment_listener.local_addr()?;
    let shop_listener = tokio::net::TcpListener::bind(shop_addr).await?;
    let shop = shop_listener.local_addr()?;
    let payment_app = payment_router(faults);
    let shop_app = shop_router(format!("http://{payment}"), faults);
    tokio::spawn(async move { axum::serve(payment_listener, payment_app).await });
    tokio::spawn(async move { axum::serve(shop_listener, shop_app).await });
    Ok(Services { shop, payment })
}

// -------------------------------------------------------------- load

/// What the load generator saw.
#[derive(Debug, Default, Clone)]
pub struct LoadReport {
    /// Checkout requests sent (each is one `checkout` call in the shop).
    pub sent: u64,
    /// Answers by status code.
    pub by_status: std::collections::BTreeMap<u16, u64>,
    /// Requests that got no answer at all.
    pub transport_errors: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl LoadReport {
    /// Answers with a 5xx status, plus requests with no answer.
    pub fn failed(&self) -> u64 {
        self.transport_errors + self.by_status.range(500..).map(|(_, n)| n).sum::<u64>()
    }
}

/// Sends `POST /checkout` at `rps` for `duration`, then waits for every answer.
pub async fn run_load(shop_url: &str, duration: Duration, rps: u32) -> LoadReport {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("a plain HTTP client");
    let started = Instant::now();
    let total = (duration.as_secs_f64() * f64::from(rps.max(1)))
        .round()
        .max(1.0) as u64;
    let interval = Duration::from_secs_f64(1.0 / f64::from(rps.max(1)));
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..total {
        ticker.tick().await;
        let client = client.clone();
        let url = format!("{shop_url}/checkout");
        let sku = 1 + (n * 7 % 40) as u32;
        let body = json!({
            "sku": sku,
            "quantity": 1 + n % 3,
            "card_number": DEMO_CARD,
            "email": format!("customer{}@example.com", n % 50),
            "password": DEMO_PASSWORD,
        });
        tasks.spawn(async move {
            client
                .post(url)
                .header("authorization", format!("Bearer {DEMO_TOKEN}"))
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .map(|response| response.status().as_u16())
        });
    }
    let mut report = LoadReport {
        sent: total,
        ..LoadReport::default()
    };
    while let Some(result) = tasks.join_next().await {
        match result {
            Ok(Ok(status)) => *report.by_status.entry(status).or_default() += 1,
            _ => report.transport_errors += 1,
        }
    }
    report.elapsed = started.elapsed();
    report
}

/// GETs a URL's body as text.
pub async fn fetch_text(url: &str) -> Result<String, String> {
    let response = reqwest::get(url)
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    response.text().await.map_err(|e| format!("GET {url}: {e}"))
}
