//! A minute's read: three observed functions, an error enum deriving
//! `Label`, a Prometheus recorder and a JSON log subscriber. Run it with
//! `cargo run --example basic` and read the log lines, then the metrics.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
use observe::{Label, observe};

/// Why a checkout fails. Deriving `Label` makes each variant an
/// `error_kind` label value: `declined`, `out_of_stock`.
#[derive(Debug, Label)]
enum CheckoutError {
    Declined,
    OutOfStock { sku: u32 },
}

impl std::fmt::Display for CheckoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckoutError::Declined => f.write_str("the card was declined"),
            CheckoutError::OutOfStock { sku } => write!(f, "sku {sku} is out of stock"),
        }
    }
}

/// A bounded label: two values, known at compile time.
#[derive(Debug, Clone, Copy, Label)]
enum Tier {
    Free,
    Pro,
}

/// `card_number` is redacted by its name; `email` is logged as a keyed hash.
#[observe(flow = "checkout", labels(tier = tier), hash(email), slow = "50ms")]
fn checkout(tier: Tier, email: &str, card_number: &str, sku: u32) -> Result<u64, CheckoutError> {
    reserve(sku)?;
    if card_number.ends_with('0') {
        return Err(CheckoutError::Declined);
    }
    Ok(4_200)
}

#[observe(flow = "checkout", level = "debug")]
fn reserve(sku: u32) -> Result<(), CheckoutError> {
    if sku == 13 {
        Err(CheckoutError::OutOfStock { sku })
    } else {
        Ok(())
    }
}

fn main() {
    // The key behind `hash(email)`: in production, set OBSERVE_HASH_KEY to the
    // same secret on every instance instead.
    observe::set_hash_key(b"basic-example-key".to_vec())
        .expect("set before the first hashed value");

    // Metrics: the Prometheus exporter, with real buckets for the latency histogram.
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("flow_call_duration_seconds".into()),
            &[0.0001, 0.001, 0.01, 0.05, 0.1, 0.5, 1.0],
        )
        .expect("valid buckets")
        .build_recorder();
    let metrics = recorder.handle();
    metrics::set_global_recorder(recorder).expect("no recorder installed yet");

    // Logs: one JSON object per line, with the span's fields on each event.
    tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_max_level(tracing::Level::DEBUG)
        .init();

    println!("--- log lines ---");
    let _ = checkout(Tier::Pro, "ann@example.com", "4111 1111 1111 1111", 1);
    let _ = checkout(Tier::Free, "bob@example.com", "4000 0000 0000 0000", 2);
    let _ = checkout(Tier::Pro, "cy@example.com", "4111 1111 1111 1111", 13);

    println!("--- metrics ---");
    print!("{}", metrics.render());
}
