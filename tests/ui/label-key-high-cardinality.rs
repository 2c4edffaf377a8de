use observe::{Label, observe};

#[derive(Label)]
enum Plan {
    Free,
    Pro,
}

#[observe(labels(user_id = plan, email = "x", path = "/a", request_id = "r"))]
fn upgrade(plan: Plan) {}

fn main() {}
