use observe::observe;

#[observe(redact(email), hash(email))]
fn subscribe(email: &str) {}

#[observe(skip_all, skip(body))]
fn upload(body: Vec<u8>) {}

fn main() {}
