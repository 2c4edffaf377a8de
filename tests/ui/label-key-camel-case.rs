use observe::{Label, observe};

#[derive(Label)]
enum Kind {
    A,
}

#[observe(labels(userId = kind, clientIp = kind))]
fn handle(kind: Kind) {}

fn main() {}
