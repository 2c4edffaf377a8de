//! `cargo observe lint` over the fixture workspace: the exact findings,
//! snapshots of every output format, exit codes, configuration,
//! suppression, ignored paths, and a run over a large real corpus.

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::Value;

/// Every finding the fixture workspace must produce, in output order.
const EXPECTED: &[(&str, &str, &str)] = &[
    // legacy: OBS002 turned off and OBS003 lowered by [package.metadata.observe].
    ("OBS001", "error", "crates/legacy/src/lib.rs:5:48"),
    // `%iban`: an IBAN is a secret name.
    ("OBS003", "warning", "crates/legacy/src/lib.rs:6:20"),
    ("OBS003", "warning", "crates/legacy/src/lib.rs:6:27"),
    // A file that does not parse is reported, not fatal.
    ("OBS000", "warning", "crates/shop/src/broken.rs:2:20"),
    // #[observe]: the macro's own validation.
    ("OBS005", "error", "crates/shop/src/checkout.rs:33:30"),
    ("OBS005", "error", "crates/shop/src/checkout.rs:37:18"),
    ("OBS005", "error", "crates/shop/src/checkout.rs:37:36"),
    ("OBS005", "error", "crates/shop/src/checkout.rs:41:18"),
    ("OBS005", "error", "crates/shop/src/checkout.rs:45:5"),
    ("OBS005", "error", "crates/shop/src/checkout.rs:58:23"),
    // Secrets in tracing macros and #[instrument].
    ("OBS003", "error", "crates/shop/src/logging.rs:12:31"),
    ("OBS003", "error", "crates/shop/src/logging.rs:14:12"),
    ("OBS003", "error", "crates/shop/src/logging.rs:17:12"),
    ("OBS003", "error", "crates/shop/src/logging.rs:20:57"),
    ("OBS003", "error", "crates/shop/src/logging.rs:21:34"),
    ("OBS004", "error", "crates/shop/src/logging.rs:25:37"),
    ("OBS003", "error", "crates/shop/src/logging.rs:39:30"),
    ("OBS004", "error", "crates/shop/src/logging.rs:40:30"),
    // OpenTelemetry instruments.
    ("OBS001", "error", "crates/shop/src/otel.rs:8:36"),
    ("OBS002", "error", "crates/shop/src/otel.rs:8:45"),
    ("OBS001", "error", "crates/shop/src/otel.rs:9:84"),
    // prometheus crate.
    ("OBS001", "error", "crates/shop/src/prom.rs:12:98"),
    ("OBS001", "error", "crates/shop/src/prom.rs:13:73"),
    ("OBS002", "warning", "crates/shop/src/prom.rs:15:44"),
    ("OBS002", "warning", "crates/shop/src/prom.rs:16:31"),
    // metrics macros, bare and qualified; `tenant` is denied by the workspace.
    ("OBS001", "error", "crates/shop/src/raw_metrics.rs:25:38"),
    ("OBS002", "error", "crates/shop/src/raw_metrics.rs:25:51"),
    ("OBS001", "error", "crates/shop/src/raw_metrics.rs:27:44"),
    ("OBS002", "error", "crates/shop/src/raw_metrics.rs:27:54"),
    ("OBS001", "error", "crates/shop/src/raw_metrics.rs:29:34"),
    ("OBS002", "error", "crates/shop/src/raw_metrics.rs:29:46"),
    ("OBS002", "warning", "crates/shop/src/raw_metrics.rs:32:43"),
    ("OBS001", "error", "crates/shop/src/raw_metrics.rs:44:28"),
];

fn findings(json: &Value) -> Vec<(String, String, String)> {
    json["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                format!(
                    "{}:{}:{}",
                    f["file"].as_str().unwrap(),
                    f["line"],
                    f["column"]
                ),
            )
        })
        .collect()
}

#[test]
fn fixture_workspace_gives_exactly_the_expected_findings() {
    let output = run(&lint_ws(), &["lint", "--format", "json"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "errors remain, so exit 1; stderr: {}",
        stderr(&output)
    );
    let json: Value = serde_json::from_str(&stdout(&output)).expect("valid JSON");
    let actual = findings(&json);
    let expected: Vec<(String, String, String)> = EXPECTED
        .iter()
        .map(|(c, s, l)| (c.to_string(), s.to_string(), l.to_string()))
        .collect();
    assert_eq!(actual, expected);
    assert_eq!(json["summary"]["errors"], 27);
    assert_eq!(json["summary"]["warnings"], 6);
    assert_eq!(json["summary"]["files"], 8);
}

#[test]
fn human_output_snapshot() {
    let output = run(&lint_ws(), &["lint"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains("error[OBS001]: metric label key `user_id` names a high-cardinality value")
    );
    assert!(
        text.contains("--> crates/shop/src/raw_metrics.rs:25:38"),
        "rustc-style location"
    );
    assert!(
        text.contains("^^^^^^^^^ high-cardinality label key"),
        "the span is underlined"
    );
    assert_snapshot("lint.human.txt", &text);
}

#[test]
fn json_output_snapshot() {
    let output = run(&lint_ws(), &["lint", "--format", "json"]);
    assert_snapshot("lint.json", &stdout(&output));
}

#[test]
fn sarif_output_is_sarif_2_1_0() {
    let output = run(&lint_ws(), &["lint", "--format", "sarif"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let sarif: Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(sarif["version"], "2.1.0");
    assert!(sarif["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "cargo-observe");
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        ["OBS000", "OBS001", "OBS002", "OBS003", "OBS004", "OBS005"]
    );
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), EXPECTED.len());
    for (result, (code, severity, location)) in results.iter().zip(EXPECTED) {
        assert_eq!(result["ruleId"], *code);
        assert_eq!(rules[result["ruleIndex"].as_u64().unwrap() as usize], *code);
        assert_eq!(result["level"], *severity);
        assert!(!result["message"]["text"].as_str().unwrap().is_empty());
        let physical = &result["locations"][0]["physicalLocation"];
        let region = &physical["region"];
        let shown = format!(
            "{}:{}:{}",
            physical["artifactLocation"]["uri"].as_str().unwrap(),
            region["startLine"],
            region["startColumn"]
        );
        assert_eq!(shown, *location);
        assert!(region["endColumn"].as_u64().unwrap() >= 1);
    }
    assert_snapshot("lint.sarif.json", &text);
}

#[test]
fn suppression_comments_and_allowed_keys_silence_findings() {
    let output = run(&lint_ws(), &["lint", "--format", "json"]);
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let text = json.to_string();
    // `// cargo-observe: allow(OBS001, OBS002)` above the shard counter.
    assert!(
        !text.contains("shard_id"),
        "suppressed by the comment on the line above"
    );
    // `allow-keys = ["session"]` in [workspace.metadata.observe].
    assert!(!text.contains("`session`"));
    // `// cargo-observe: allow(OBS004)` above #[instrument] on test_login.
    assert!(
        !findings(&json)
            .iter()
            .any(|(_, _, l)| l.starts_with("crates/shop/src/logging.rs:45"))
    );
    // [package.metadata.observe.severity] OBS002 = "allow" in legacy.
    assert!(
        !findings(&json)
            .iter()
            .any(|(c, _, l)| c == "OBS002" && l.starts_with("crates/legacy"))
    );
}

#[test]
fn exit_code_is_zero_without_errors() {
    let dir = scratch("clean");
    write(
        &dir.join("Cargo.toml"),
        "[package]\nname = \"clean\"\nversion = \"0.1.0\"\n",
    );
    write(
        &dir.join("src/lib.rs"),
        "pub fn f(kind: &str) {\n    metrics::counter!(\"calls_total\", \"kind\" => \"a\").increment(1);\n    tracing::info!(kind, \"done\");\n}\n",
    );
    let output = run(&dir, &["lint"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("no findings in 1 file"));

    // Warnings alone do not fail the run.
    write(
        &dir.join("src/lib.rs"),
        "pub fn f(v: String) { metrics::counter!(\"c\", \"kind\" => v).increment(1); }\n",
    );
    let output = run(&dir, &["lint"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("warning[OBS002]"));

    // Configured up to an error, they do.
    write(
        &dir.join("Cargo.toml"),
        "[package]\nname = \"clean\"\nversion = \"0.1.0\"\n[package.metadata.observe.severity]\nOBS002 = \"error\"\n",
    );
    let output = run(&dir, &["lint"]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
}

#[test]
fn usage_errors_exit_with_two() {
    let ws = lint_ws();
    assert_eq!(
        run(&ws, &["lint", "--format", "xml"]).status.code(),
        Some(2)
    );
    assert_eq!(run(&ws, &["lint", "no/such/dir"]).status.code(), Some(2));
    assert_eq!(run(&ws, &["frobnicate"]).status.code(), Some(2));
    assert_eq!(run(&ws, &[]).status.code(), Some(2));
    let dir = scratch("badconfig");
    write(
        &dir.join("Cargo.toml"),
        "[package]\nname = \"x\"\n[package.metadata.observe.severity]\nOBS002 = \"loud\"\n",
    );
    write(&dir.join("src/lib.rs"), "");
    let output = run(&dir, &["lint"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("unknown severity `loud`"));
}

#[test]
fn runs_as_a_cargo_subcommand() {
    // cargo runs `cargo-observe observe lint ...` for `cargo observe lint ...`.
    let output = run(&lint_ws(), &["observe", "lint", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(findings(&json).len(), EXPECTED.len());
}

#[test]
fn paths_can_be_files_or_directories() {
    let output = run(
        &lint_ws(),
        &[
            "lint",
            "--format",
            "json",
            "crates/shop/src/prom.rs",
            "crates/legacy",
        ],
    );
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let files: Vec<String> = findings(&json)
        .into_iter()
        .map(|(_, _, l)| l.split(':').next().unwrap().to_string())
        .collect();
    assert!(
        files
            .iter()
            .all(|f| f == "crates/shop/src/prom.rs" || f == "crates/legacy/src/lib.rs"),
        "{files:?}"
    );
    assert_eq!(json["summary"]["files"], 2);
}

#[test]
fn gitignored_files_and_target_are_skipped() {
    let dir = scratch("ignored");
    copy_dir(&lint_ws(), &dir);
    let leak = "pub fn leak(password: &str) { tracing::info!(password, \"x\"); }\n";
    write(&dir.join(".gitignore"), "/generated/\n");
    write(&dir.join("generated/bindings.rs"), leak);
    write(&dir.join("target/debug/build/out.rs"), leak);
    write(&dir.join("crates/shop/target/out.rs"), leak);
    let output = run(&dir, &["lint", "--format", "json"]);
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(findings(&json).len(), EXPECTED.len(), "{}", stdout(&output));
    assert_eq!(json["summary"]["files"], 8);
}

#[test]
fn the_macro_and_the_linter_share_their_messages() {
    // OBS005 messages are observe-attr's, word for word.
    let output = run(&lint_ws(), &["lint", "--format", "json"]);
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let messages: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "OBS005")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages.contains(&"unknown option `labls` for #[observe]; did you mean `labels`?"),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("label key `user_id` names a high-cardinality value")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("#[observe] cannot be applied to a struct")),
        "{messages:?}"
    );
}

fn registry_src() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .expect("CARGO_HOME or HOME is set");
    home.join("registry/src")
}

/// The crates in the local cargo registry are real code of every style:
/// the run must finish and report, whatever it meets.
#[test]
fn lints_the_local_cargo_registry_without_crashing() {
    let corpus = registry_src();
    assert!(
        corpus.is_dir(),
        "{} is missing: the workspace's dependencies are downloaded there",
        corpus.display()
    );
    let output = run(&corpus, &["lint", "--format", "json", "--stats", "."]);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "crashed: {:?}\n{}",
        output.status,
        stderr(&output)
    );
    let json: Value =
        serde_json::from_str(&stdout(&output)).expect("valid JSON over the whole corpus");
    assert!(
        json["summary"]["files"].as_u64().unwrap() > 500,
        "{}",
        json["summary"]
    );
    eprintln!("{}", stderr(&output).trim());
}

/// The speed measurement reported in docs/cli.md. Run it explicitly, in
/// release: `cargo test --release -p cargo-observe --test lint -- --ignored --nocapture`.
#[test]
#[ignore]
fn benchmark_lines_per_second_over_the_registry() {
    let corpus = registry_src();
    for _ in 0..3 {
        let output = run(&corpus, &["lint", "--format", "json", "--stats", "."]);
        eprintln!("{}", stderr(&output).trim());
    }
}

/// The macro's compile-fail tests (`tests/ui/*.rs` with the compiler's
/// `.stderr`): every OBS005 the linter reports there is an error the
/// compiler printed, with the same message at the same line and column.
#[test]
fn obs005_matches_the_compiler_output_of_the_macro_ui_tests() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    let ui = repo.join("tests/ui");
    assert!(
        ui.is_dir(),
        "{} holds the macro's trybuild tests",
        ui.display()
    );
    let output = run(repo, &["lint", "--format", "json", "tests/ui"]);
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let mut matched = 0;
    for finding in json["findings"].as_array().unwrap() {
        if finding["code"] != "OBS005" {
            continue;
        }
        let file = finding["file"].as_str().unwrap();
        let stderr_path = repo.join(file.replace(".rs", ".stderr"));
        let Ok(expected) = std::fs::read_to_string(&stderr_path) else {
            continue;
        };
        let message = finding["message"].as_str().unwrap();
        let location = format!("{file}:{}:{}", finding["line"], finding["column"]);
        assert!(
            expected.contains(message),
            "{location}: `{message}` is not in {}",
            stderr_path.display()
        );
        assert!(
            expected.contains(&location),
            "{location} is not in {}",
            stderr_path.display()
        );
        matched += 1;
    }
    assert!(matched >= 10, "only {matched} OBS005 findings in tests/ui");
}

#[test]
fn package_configuration_extends_the_workspace() {
    let dir = scratch("config");
    write(
        &dir.join("Cargo.toml"),
        "[workspace]\nmembers = [\"app\"]\n[workspace.metadata.observe]\ndeny-keys = [\"tenant\"]\n",
    );
    write(
        &dir.join("app/Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\n[package.metadata.observe]\ndenied_keys = [\"customer\"]\nallow-keys = [\"path\"]\n[package.metadata.observe.severity]\nunbounded-label-value = \"allow\"\n",
    );
    write(
        &dir.join("app/src/lib.rs"),
        "pub fn f(t: &str, c: &str, p: &str) {\n    metrics::counter!(\"a\", \"tenant\" => t, \"customer\" => c, \"path\" => p).increment(1);\n}\n",
    );
    let output = run(&dir, &["lint", "--format", "json"]);
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let found: Vec<String> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].contains("`tenant`") && found[1].contains("`customer`"),
        "{found:?}"
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn odd_files_are_reported_not_fatal() {
    let dir = scratch("odd");
    write(
        &dir.join("src/crlf.rs"),
        "fn f(user_id: u64) {\r\n    metrics::counter!(\"c\", \"user_id\" => user_id.to_string()).increment(1);\r\n}\r\n",
    );
    write(&dir.join("src/eof.rs"), "fn f() {\n");
    write(
        &dir.join("src/crlf_eof.rs"),
        "fn f() {\r\n    let x = (1,\r\n",
    );
    write(&dir.join("src/empty.rs"), "");
    write(
        &dir.join("src/bom.rs"),
        "\u{feff}fn f(password: &str) { tracing::info!(password); }\n",
    );
    std::fs::write(
        dir.join("src/latin1.rs"),
        b"// caf\xe9\nfn f(token: &str) { tracing::warn!(?token); }\n",
    )
    .unwrap();
    write(
        &dir.join("src/deep.rs"),
        &format!(
            "fn f() -> u32 {{ {}1{} }}\n",
            "(".repeat(3000),
            ")".repeat(3000)
        ),
    );
    write(
        &dir.join("src/deeper.rs"),
        &format!(
            "fn f() -> u32 {{ {}1{} }}\n",
            "[".repeat(200_000),
            "]".repeat(200_000)
        ),
    );
    for format in ["human", "json", "sarif"] {
        let output = run(&dir, &["lint", "--format", format]);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{format}: {}{}",
            stdout(&output),
            stderr(&output)
        );
    }
    let output = run(&dir, &["lint", "--format", "json"]);
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let codes: Vec<(String, String)> = findings(&json)
        .into_iter()
        .map(|(c, _, l)| (c, l))
        .collect();
    let has = |code: &str, at: &str| codes.iter().any(|(c, l)| c == code && l.starts_with(at));
    assert!(has("OBS001", "src/crlf.rs:2:28"), "{codes:?}");
    assert!(has("OBS002", "src/crlf.rs:2:41"), "{codes:?}");
    assert!(has("OBS000", "src/eof.rs"), "{codes:?}");
    assert!(has("OBS000", "src/crlf_eof.rs"), "{codes:?}");
    assert!(has("OBS003", "src/bom.rs:1:"), "{codes:?}");
    assert!(has("OBS003", "src/latin1.rs:2:"), "{codes:?}");
    assert!(has("OBS000", "src/deeper.rs:1:1"), "{codes:?}");
    assert!(
        !codes.iter().any(|(_, l)| l.starts_with("src/deep.rs")),
        "3000 levels parse: {codes:?}"
    );
    assert_eq!(json["summary"]["files"], 8);
}
