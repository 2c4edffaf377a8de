use observe::observe;

#[observe(skip)]
fn handle() {}

fn main() {}
