use observe::observe;

#[observe(slow = "250", sample = 1.5, max_series = 2)]
fn a() {}

#[observe(slow = "1h")]
fn b() {}

fn main() {}
