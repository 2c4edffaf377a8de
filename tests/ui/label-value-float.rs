use observe::observe;

pub struct Order {
    pub total: f64,
}

#[observe(labels(amount = order.total))]
fn bill(order: &Order) {}

fn main() {}
