// Compiled twice by tests/clippy_twins.rs: as `plain` with every `//@observe`
// line removed and as `annotated` with each replaced by `#[observe::observe]`.
// Clippy (all + pedantic, rust-version 1.64) must say the same of both.

use std::cmp::Ordering;

//@observe
pub fn add(a: u32, b: u32) -> u32 {
    a + b
}

//@observe
pub fn fallible(input: &str) -> Result<u32, std::num::ParseIntError> {
    input.parse::<u32>()
}

// Arguments the user marked unused.
//@observe
pub fn tuple(_len: usize, n: u32) -> u32 {
    n
}

pub struct Deserializer;

impl Deserializer {
    //@observe
    pub fn unit_struct(&self, _name: &'static str, mut _visits: u32) -> u32 {
        7
    }
}

// The canonical `Clone` of a `Copy` type and `PartialOrd` of an `Ord` one.
#[derive(Copy, PartialEq, Eq, Debug)]
pub struct Layer(pub usize);

impl Clone for Layer {
    //@observe
    fn clone(&self) -> Self {
        *self
    }
}

impl PartialOrd for Layer {
    //@observe
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Layer {
    //@observe
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

// Not canonical: clippy must still say so with the attribute.
#[derive(Copy, Debug)]
pub struct Handle(pub u8);

impl Clone for Handle {
    //@observe
    fn clone(&self) -> Self {
        Handle(self.0)
    }
}

// An empty body keeps clippy's exemption from `extra_unused_type_parameters`.
//@observe
pub fn assert_send<T: Send>() {}

// A pedantic lint the body earns on its own.
//@observe
pub fn widen(x: u64) -> u32 {
    x as u32
}

// The other expansions: `async fn`, `-> impl Trait`, a poll function.
// (An `async fn` without `.await` is not compared: the expansion's own
// `.await` hides pedantic `unused_async`, a known difference.)
//@observe
pub async fn fetch(_id: u64, key: &str) -> Result<usize, std::fmt::Error> {
    let len = std::future::ready(key.len()).await;
    Ok(len)
}

//@observe
pub fn counter() -> impl Iterator<Item = u32> {
    0..3
}

//@observe
pub fn poll_ready(
    _cx: &mut std::task::Context<'_>,
) -> std::task::Poll<Result<(), std::fmt::Error>> {
    std::task::Poll::Ready(Ok(()))
}
