use observe::observe;

#[observe(fields(outcome = 1, otel.kind = "server"))]
fn handle() {}

fn main() {}
