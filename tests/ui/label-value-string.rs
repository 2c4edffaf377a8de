use observe::observe;

#[observe(labels(customer = customer))]
fn checkout(customer: String) {}

fn main() {}
