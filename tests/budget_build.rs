//! The cardinality budget of labels whose types the macro cannot name
//! (`labels(country = quote.country)`) is checked when the function is
//! monomorphised, so it fails `cargo build` (trybuild only runs `cargo
//! check`). This builds a fixture crate for real and reads the error.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str, source: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("target").join("build-fail").join(name);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\nobserve = {{ path = {:?}, default-features = false }}\n\n[workspace]\n",
            root.display().to_string()
        ),
    )
    .unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::copy(source, dir.join("src/main.rs")).unwrap();
    dir
}

fn cargo(dir: &Path, command: &str) -> (bool, String) {
    let output = Command::new(env!("CARGO"))
        .args([command, "--quiet", "--offline"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", dir.parent().unwrap().join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn expression_labels_over_budget_fail_cargo_build() {
    let source =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/build-fail/label-budget-expression.rs");
    let dir = fixture("label_budget_expression", &source);
    let (built, stderr) = cargo(&dir, "build");
    assert!(!built, "the over-budget function must not build");
    assert!(
        stderr.contains(
            "metric label budget exceeded in `price`: country (11 values) x currency (9 values) x outcome (4 values) \
             = 396 series, over the budget of 128"
        ),
        "unexpected error:\n{stderr}"
    );
    assert!(
        stderr.contains("raise the budget with `max_series = N`"),
        "{stderr}"
    );
}

#[test]
fn error_kinds_over_budget_fail_cargo_build() {
    let source =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/build-fail/error-kind-budget.rs");
    let dir = fixture("error_kind_budget", &source);
    let (built, stderr) = cargo(&dir, "build");
    assert!(
        !built,
        "the function whose error kinds exceed the budget must not build"
    );
    assert!(
        stderr.contains(
            "metric label budget exceeded by `flow_errors_total`: the error type's `Label` values \
             (plus `other`, `error` and `panic`) times the label combinations exceed `max_series`"
        ),
        "unexpected error:\n{stderr}"
    );
}
