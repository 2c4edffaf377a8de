//! `cargo observe migrate`: attribute-only rewrites, reported options, and
//! a fixture crate that compiles before and after.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn migrate_fixture() -> PathBuf {
    fixtures().join("migrate-crate")
}

/// Lines that differ must all be attribute lines; everything else stays
/// byte-for-byte the same.
fn assert_only_attributes_changed(old: &str, new: &str) -> usize {
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    assert_eq!(
        old_lines.len(),
        new_lines.len(),
        "attributes are rewritten in place, line for line"
    );
    let mut changed = 0;
    for (a, b) in old_lines.iter().zip(&new_lines) {
        if a != b {
            changed += 1;
            assert!(
                a.trim_start().starts_with("#["),
                "a non-attribute line changed: {a:?}"
            );
            assert!(b.trim_start().starts_with("#[observe::observe"), "{b:?}");
            let indent = |s: &str| s.len() - s.trim_start().len();
            assert_eq!(indent(a), indent(b), "indentation kept");
        }
    }
    changed
}

#[test]
fn dry_run_prints_a_unified_diff_and_reports_unmapped_options() {
    let dir = migrate_fixture();
    let before = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
    let output = run(&dir, &["migrate", "--dry-run"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(dir.join("src/lib.rs")).unwrap(),
        before,
        "--dry-run writes nothing"
    );
    let diff = stdout(&output);
    assert!(
        diff.starts_with("--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ "),
        "{diff}"
    );
    assert_snapshot("migrate.tracing.diff", &diff);
    let notes = stderr(&output);
    assert!(
        notes.contains("src/lib.rs:35:78: unmapped: `target = \"billing\"`"),
        "{notes}"
    );
    assert!(
        notes.contains("src/lib.rs:51:37: unmapped: `fields(otel.kind = \"server\")`"),
        "{notes}"
    );
    assert!(
        notes.contains("src/lib.rs:29:83: covered: `err`"),
        "{notes}"
    );
    assert!(
        notes.contains(
            "would rewrite 6 attributes in 1 file; 2 options without an #[observe] equivalent"
        ),
        "{notes}"
    );
}

#[test]
fn autometrics_is_migrated_on_source_text() {
    let dir = scratch("autometrics");
    copy_dir(&fixtures().join("autometrics"), &dir);
    let before = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
    let output = run(&dir, &["migrate"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let after = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
    assert_eq!(assert_only_attributes_changed(&before, &after), 5);
    assert!(after.contains(
        "#[observe::observe(flow = \"api\", slo(availability = 99.9, latency = \"250ms\", percentile = 99.0))]\npub async fn get_user"
    ));
    assert!(after.contains("#[observe::observe]\nimpl Database"));
    assert_snapshot("migrate.autometrics.rs", &after);
    let notes = stderr(&output);
    assert!(
        notes.contains("src/lib.rs:32:34: unmapped: `ok_if = is_success`"),
        "{notes}"
    );
    assert!(
        notes.contains(
            "src/lib.rs:37:28: unmapped: `objective = crate::slos::BATCH`: the objective `BATCH`"
        ),
        "{notes}"
    );
    assert!(
        notes.contains("src/lib.rs:42:15: unmapped: `struct_name = \"Db\"`"),
        "{notes}"
    );
    assert!(!notes.contains("skipped"), "{notes}");
}

#[test]
fn an_attribute_that_would_not_compile_is_left_alone() {
    let dir = scratch("migrate-invalid");
    let source = "use tracing::instrument;\n\n#[instrument(skip(nope))]\npub fn f(x: u32) {}\n\n#[instrument(fields(flow = x))]\npub fn g(x: u32) {}\n";
    write(&dir.join("src/lib.rs"), source);
    let output = run(&dir, &["migrate"]);
    assert_eq!(output.status.code(), Some(0));
    let after = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
    assert_eq!(
        after,
        source.replace("#[instrument(fields(flow = x))]", "#[observe::observe]")
    );
    let notes = stderr(&output);
    assert!(
        notes.contains("src/lib.rs:3:1: skipped: left unchanged"),
        "{notes}"
    );
    assert!(
        notes.contains("`skip(nope)` names no argument of this function"),
        "{notes}"
    );
    assert!(
        notes.contains("unmapped: `fields(flow = x)`: #[observe] sets `flow` itself"),
        "{notes}"
    );
}

fn cargo_check(crate_dir: &Path, target: &Path) -> (bool, String) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["check", "--offline", "--quiet", "--message-format", "short"])
        .current_dir(crate_dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The fixture crate builds with #[tracing::instrument], is migrated, and
/// builds again with the real #[observe] macro of this repository.
#[test]
fn migrated_fixture_crate_compiles_before_and_after() {
    let repo_root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let dir = scratch("migrate-crate");
    copy_dir(&migrate_fixture(), &dir);
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let manifest = manifest.replace(
        "path = \"../../../..\"",
        &format!("path = {:?}", repo_root.to_str().unwrap()),
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    // The workspace's lock file pins the same versions, so --offline finds them.
    std::fs::copy(repo_root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    // Shared across runs so dependencies are compiled once.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("migrate-fixture-target");

    let (ok, log) = cargo_check(&dir, &target);
    assert!(ok, "the fixture must build before the migration:\n{log}");

    let before = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
    let output = run(&dir, &["migrate"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let after = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
    assert_eq!(assert_only_attributes_changed(&before, &after), 6);
    assert!(!after.contains("#[instrument") && !after.contains("#[tracing::instrument"));
    assert!(after.contains("    id > 0 && amount_cents > 0 // keep this comment\n"));

    let (ok, log) = cargo_check(&dir, &target);
    assert!(ok, "the migrated fixture must build:\n{log}\n{after}");
}

#[test]
fn autometrics_and_instrument_on_one_function_become_one_attribute() {
    let dir = scratch("migrate-merge");
    let source = "pub struct S;\n\nimpl S {\n    /// Docs stay.\n    #[autometrics]\n    #[tracing::instrument(skip(self), fields(%id))]\n    pub fn get(&self, id: u64) -> u64 {\n        id\n    }\n}\n";
    write(&dir.join("src/lib.rs"), source);
    let output = run(&dir, &["migrate"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let after = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
    assert_eq!(
        after,
        "pub struct S;\n\nimpl S {\n    /// Docs stay.\n    #[observe::observe(skip(self), fields(id = %id))]\n    pub fn get(&self, id: u64) -> u64 {\n        id\n    }\n}\n"
    );
    assert!(
        stderr(&output).contains("rewrote 1 attribute in 1 file"),
        "{}",
        stderr(&output)
    );
}

/// The notes of a migration, as `cargo observe migrate` prints them.
fn notes_of(migration: &cargo_observe::migrate::Migration) -> Vec<String> {
    migration.notes.iter().map(|n| n.to_string()).collect()
}

#[test]
fn computed_field_names_are_reported_not_dropped_silently() {
    let source = "const KEY: &str = \"k\";\n\
                  #[tracing::instrument(fields({KEY} = \"x\", plain = 1))]\n\
                  pub fn f() {}\n";
    let migration = cargo_observe::migrate::migrate_source("src/lib.rs", source).unwrap();
    assert_eq!(
        migration.new_text,
        "const KEY: &str = \"k\";\n\
         #[observe::observe(fields(plain = 1))]\n\
         pub fn f() {}\n"
    );
    assert_eq!(
        notes_of(&migration),
        [
            "src/lib.rs:2:30: unmapped: `fields({KEY} = \"x\")`: the field name is not a literal name; \
             #[observe] field names are written out; left out"
        ]
    );
}

#[test]
fn a_computed_field_name_alone_is_reported_too() {
    let source = "#[instrument(fields({NAME} = 1))]\npub fn f() {}\n";
    let migration = cargo_observe::migrate::migrate_source("src/lib.rs", source).unwrap();
    assert_eq!(migration.new_text, "#[observe::observe]\npub fn f() {}\n");
    assert_eq!(migration.notes.len(), 1, "{:?}", notes_of(&migration));
    assert_eq!(
        migration.notes[0].kind,
        cargo_observe::migrate::NoteKind::Unmapped
    );
    assert!(
        migration.notes[0]
            .message
            .starts_with("`fields({NAME} = 1)`: the field name is not a literal name"),
        "{:?}",
        notes_of(&migration)
    );
}

#[test]
fn the_positional_span_name_maps_to_name() {
    let source = "#[tracing::instrument(\"checkout.pay\", skip_all)]\npub fn pay(card: &str) {}\n";
    let migration = cargo_observe::migrate::migrate_source("src/lib.rs", source).unwrap();
    assert_eq!(
        migration.new_text,
        "#[observe::observe(name = \"checkout.pay\", skip_all)]\npub fn pay(card: &str) {}\n"
    );
    assert_eq!(notes_of(&migration), Vec::<String>::new());
}
