use observe::observe;

#[observe(flwo = "checkout", lables(region = "eu"), colour = "red")]
fn checkout() {}

fn main() {}
