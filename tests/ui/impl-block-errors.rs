use observe::observe;

struct Cart;

#[observe(flow = "cart")]
impl Cart {
    #[observe(levle = "debug")]
    fn add(&self) {}

    fn remove(&self) {}
}

fn main() {
    // Both methods are still there.
    Cart.add();
    Cart.remove();
}
