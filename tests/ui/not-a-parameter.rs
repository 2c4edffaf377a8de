use observe::observe;

#[observe(skip(pasword), redact(toknen), hash(emial))]
fn login(password: &str, token: &str, email: &str) {}

fn main() {}
