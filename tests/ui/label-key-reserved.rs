use observe::observe;

#[observe(labels(outcome = "ok", le = "0.1"))]
fn settle() {}

fn main() {}
