use observe::observe;

#[observe(labels(country = country))]
fn ship(country: &str) {}

fn main() {}
