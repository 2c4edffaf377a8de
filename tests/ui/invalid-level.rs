use observe::observe;

#[observe(level = "INFO")]
fn a() {}

#[observe(level = "warning")]
fn b() {}

fn main() {}
