use observe::observe;

#[observe(labels(region = "eu", region = "us"))]
fn route() {}

fn main() {}
