//! Code instrumented with autometrics (source text only: autometrics is not
//! built by the tests, see docs/cli.md).

use autometrics::autometrics;
use autometrics::objectives::{Objective, ObjectiveLatency, ObjectivePercentile};

/// The API's objective: 99.9% success, 99% under 250 ms.
const API_SLO: Objective = Objective::new("api")
    .success_rate(ObjectivePercentile::P99_9)
    .latency(ObjectiveLatency::Ms250, ObjectivePercentile::P99);

pub struct ApiError;

#[observe::observe(flow = "api", slo(availability = 99.9, latency = "250ms", percentile = 99.0))]
pub async fn get_user(id: u64) -> Result<String, ApiError> {
    if id == 0 { Err(ApiError) } else { Ok(format!("user {id}")) }
}

#[observe::observe]
pub fn health() -> &'static str {
    "ok"
}

pub struct Response {
    pub status: u16,
}

fn is_success(r: &Response) -> bool {
    r.status < 500
}

#[observe::observe]
pub fn upload(bytes: &[u8]) -> Response {
    Response { status: if bytes.is_empty() { 400 } else { 201 } }
}

#[observe::observe]
pub fn nightly() {}

pub struct Database;

#[observe::observe]
impl Database {
    pub fn query(&self, sql: &str) -> usize {
        sql.len()
    }
}
