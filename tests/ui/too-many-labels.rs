use observe::observe;

#[observe(labels(a = "1", b = "1", c = "1", d = "1", e = "1", f = "1", g = "1", h = "1", i = "1"))]
fn handle() {}

fn main() {}
