use observe::observe;

#[observe(flow = "a", level = "info", flow = "b")]
fn twice() {}

fn main() {}
