use observe::observe;

pub struct Uuid(u128);

#[observe(labels(cart = cart))]
fn add(cart: Uuid) {}

fn main() {}
