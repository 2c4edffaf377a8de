use observe::observe;

#[observe(labels(status = status))]
fn respond(status: u16) {}

fn main() {}
