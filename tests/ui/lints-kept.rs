// The attribute hides no lint: every one below fires on the plain
// function, and fires, at the user's own token, on the annotated one.
#![deny(unused_variables, unused_mut, unused_labels, unused_parens)]

use observe::observe;

#[observe]
fn unused_argument(id: u64, name: &str) -> u64 {
    1
}

#[observe]
fn needless_mut(mut id: u64) -> u64 {
    id
}

#[observe]
async fn unused_async_argument(id: u64) -> u64 {
    1
}

#[observe]
fn unused_label_inside(x: u64) -> u64 {
    'unused: {
        x
    }
}

// A pattern argument first: the plain names after it are still checked.
#[observe]
fn after_a_pattern(_: u8, unused_after: u8) -> u8 {
    1
}

// The argument's own lint attributes still apply to it.
#[observe]
fn own_lint_attributes(#[allow(unused_variables)] quiet: u64, #[expect(unused_variables)] expected: u64) -> u64 {
    1
}

// An argument the attribute names is used: no warning for it.
#[observe(hash(email), fields(note = ?note))]
fn named_by_the_attribute(email: &str, note: Option<&str>) -> u64 {
    1
}

// The fix rustc offers is the plain function's: `x?`, not `x`.
#[observe]
fn parenthesised_question_mark(x: Option<u8>) -> Option<u8> {
    let y = (x?);
    Some(y)
}

fn main() {}
