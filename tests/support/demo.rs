//! The checkout example's binary, for the tests that run the demo as a
//! user does.

use std::path::PathBuf;
use std::process::Command;

/// The example binary, built (or found up to date) by the cargo running
/// this test: `--all-targets` builds examples only as test harnesses.
pub fn demo_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .to_path_buf();
    let target_dir = profile_dir.parent().unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "--example", "checkout", "--target-dir"])
        .arg(target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the checkout example failed");
    let binary = profile_dir.join("examples").join("checkout");
    assert!(
        binary.is_file(),
        "no example binary at {}",
        binary.display()
    );
    binary
}
