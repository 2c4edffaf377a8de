use observe::observe;

#[observe(flow = "Checkout Flow!")]
fn checkout() {}

fn main() {}
