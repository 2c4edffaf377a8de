//! The functions `tests/schema.rs` calls for real and also scans with
//! cargo-observe's front end: one source for what is recorded and what the
//! generated rules and dashboards query.

use observe::{Label, observe};

#[derive(Debug, Label)]
pub enum PayError {
    Declined,
}

impl std::fmt::Display for PayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("card declined")
    }
}

/// 0: error, 1: panic, else ok.
#[observe(
    flow = "checkout",
    labels(region = "eu"),
    slo(availability = 99.9, latency = "300ms", percentile = 99.0)
)]
pub fn pay(amount: u64) -> Result<u64, PayError> {
    match amount {
        0 => Err(PayError::Declined),
        1 => panic!("the payment provider exploded"),
        _ => Ok(amount),
    }
}

/// How a call of [`reserve`] ends.
pub enum Step {
    Succeed,
    Fail,
    Panic,
    /// Never completes: dropping it after a poll is a cancelled call.
    Wait,
}

#[observe(
    flow = "checkout",
    slo(availability = 99.5, latency = "1s", percentile = 95.0)
)]
pub async fn reserve(step: Step) -> Result<(), String> {
    match step {
        Step::Succeed => Ok(()),
        Step::Fail => Err("out of stock".to_string()),
        Step::Panic => panic!("the inventory exploded"),
        Step::Wait => std::future::pending().await,
    }
}
