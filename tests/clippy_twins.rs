//! Promise 3 for lints: clippy (`all` and `pedantic`, under a
//! `rust-version` older than anything observe's expansion could use) says
//! the same of a function with and without `#[observe]`. The twins come
//! from one source (`tests/clippy-twins/twin.rs`): every `//@observe` line
//! is removed in `plain` and becomes `#[observe::observe]` in `annotated`,
//! and the two modules' warnings are compared, message by message, with
//! the line each points at.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const MARK: &str = "//@observe";

fn twin_crate() -> std::path::PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(root.join("tests/clippy-twins/twin.rs")).unwrap();
    // Both twins keep the source's line numbers: the mark becomes a blank
    // line or the attribute.
    let twin = |with: &str| {
        source
            .lines()
            .map(|line| if line.trim() == MARK { with } else { line })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let dir = root.join("target").join("build-fail").join("clippy_twins");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"clippy_twins\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
             rust-version = \"1.64\"\npublish = false\n\n\
             [dependencies]\nobserve = {{ path = {:?}, default-features = false }}\n\n[workspace]\n",
            root.display().to_string()
        ),
    )
    .unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::write(
        dir.join("src/lib.rs"),
        "#![warn(clippy::all, clippy::pedantic)]\npub mod plain;\npub mod annotated;\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/plain.rs"), twin("")).unwrap();
    std::fs::write(dir.join("src/annotated.rs"), twin("#[observe::observe]")).unwrap();
    dir
}

/// Each twin's warnings as "line: message", counted.
fn warnings_by_twin(short: &str) -> BTreeMap<&'static str, BTreeMap<String, usize>> {
    let mut by_twin: BTreeMap<&'static str, BTreeMap<String, usize>> = BTreeMap::new();
    for line in short.lines() {
        // `src/plain.rs:19:27: warning: used underscore-prefixed binding`
        for twin in ["plain", "annotated"] {
            let Some(rest) = line.strip_prefix(&format!("src/{twin}.rs:")) else {
                continue;
            };
            let (line_number, rest) = rest.split_once(':').unwrap();
            let (_column, message) = rest.split_once(": ").unwrap();
            *by_twin
                .entry(twin)
                .or_default()
                .entry(format!("{line_number}: {message}"))
                .or_default() += 1;
        }
    }
    by_twin
}

#[test]
fn clippy_says_the_same_of_both_twins() {
    let dir = twin_crate();
    let output = Command::new(env!("CARGO"))
        .args(["clippy", "--quiet", "--offline", "--message-format=short"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", dir.parent().unwrap().join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "cargo clippy failed (is clippy installed? `rustup component add clippy`):\n{stderr}"
    );
    let by_twin = warnings_by_twin(&stderr);
    let plain = by_twin.get("plain").cloned().unwrap_or_default();
    let annotated = by_twin.get("annotated").cloned().unwrap_or_default();
    // The twin earns lints of its own, so the comparison has something to
    // compare: `cast_possible_truncation` in `widen`, the non-canonical
    // `Clone` of `Handle`, `must_use_candidate`s.
    assert!(
        plain.keys().any(|w| w.contains("casting `u64` to `u32`")),
        "{stderr}"
    );
    assert!(
        plain
            .keys()
            .any(|w| w.contains("non-canonical implementation of `clone`")),
        "{stderr}"
    );
    assert_eq!(
        annotated, plain,
        "clippy's warnings differ between the twins:\n{stderr}"
    );
}
