use observe::observe;

#[observe(fields(r#outcome = "ok", r#flow = "spoofed"))]
fn handle() {}

fn main() {}
