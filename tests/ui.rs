//! Every compile error #[observe] and #[derive(Label)] can raise, with the
//! exact message a user sees (`tests/ui/*.stderr`, reviewed by hand).
//! Regenerate after an intended change with `TRYBUILD=overwrite`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
