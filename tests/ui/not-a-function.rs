use observe::observe;

#[observe]
struct Cart {
    items: Vec<u32>,
}

fn main() {
    // The struct is still emitted.
    let _ = Cart { items: Vec::new() };
}
