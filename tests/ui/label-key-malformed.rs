use observe::observe;

#[observe(labels("my-key" = "a", __internal = "b", "9lives" = "c"))]
fn cats() {}

fn main() {}
