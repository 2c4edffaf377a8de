use observe::observe;

#[observe(flow = checkout, level = 3, sample = "0.1", slow = 250, ret = true)]
fn checkout() {}

fn main() {}
