use observe::observe;

#[observe(labels(route = format!("/orders/{}", id)))]
fn get(id: u64) {}

fn main() {}
