use observe::observe;

#[observe(labels(version = 2))]
fn serve() {}

fn main() {}
