use observe::observe;

#[observe]
const fn answer() -> u32 {
    42
}

fn main() {
    // The function is still emitted, so callers type-check: one error, not two.
    let _ = answer();
}
