//! Lint output: human (rustc-style snippets), JSON and SARIF 2.1.0.

pub mod human;
pub mod json;
pub mod sarif;
