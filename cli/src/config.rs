//! `[workspace.metadata.observe]` and `[package.metadata.observe]`.
//!
//! ```toml
//! [workspace.metadata.observe]
//! deny-keys = ["tenant", "customer"]   # more high-cardinality label keys (OBS001)
//! allow-keys = ["path"]                # keys never reported as high-cardinality
//! exclude = ["tests/fixtures"]         # paths (relative to the manifest) not linted
//! [workspace.metadata.observe.severity]
//! OBS002 = "error"                     # error | warning | note | allow
//! ```
//! A package's table extends the workspace's: key lists are merged and its
//! severities override.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::finding::{Code, Severity};

/// The raw table, as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawConfig {
    #[serde(
        default,
        alias = "deny_keys",
        alias = "denied-keys",
        alias = "denied_keys",
        alias = "extra-denied-keys",
        alias = "extra_denied_keys",
        alias = "deny",
        alias = "denied",
        alias = "deny-labels",
        alias = "deny_labels",
        alias = "high-cardinality-keys",
        alias = "high_cardinality_keys"
    )]
    pub deny_keys: Vec<String>,
    #[serde(
        default,
        alias = "allow_keys",
        alias = "allowed-keys",
        alias = "allowed_keys",
        alias = "allow",
        alias = "allowed",
        alias = "allow-labels",
        alias = "allow_labels"
    )]
    pub allow_keys: Vec<String>,
    #[serde(default, alias = "severities")]
    pub severity: BTreeMap<String, String>,
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// The effective configuration for one package.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub deny_keys: Vec<String>,
    pub allow_keys: Vec<String>,
    pub severity: BTreeMap<Code, Severity>,
    /// Absolute paths not linted.
    pub exclude: Vec<PathBuf>,
}

impl Config {
    /// Applies `raw` (found in the manifest in `dir`) over `self`.
    pub fn extend(&self, raw: &RawConfig, dir: &Path, manifest: &Path) -> Result<Config, String> {
        let mut out = self.clone();
        out.deny_keys
            .extend(raw.deny_keys.iter().map(|k| k.to_ascii_lowercase()));
        out.allow_keys
            .extend(raw.allow_keys.iter().map(|k| k.to_ascii_lowercase()));
        for (code, level) in &raw.severity {
            let code = Code::from_name(code).ok_or_else(|| {
                format!(
                    "{}: unknown finding code `{code}` in metadata.observe.severity",
                    manifest.display()
                )
            })?;
            let level = Severity::from_name(level).ok_or_else(|| {
                format!(
                    "{}: unknown severity `{level}` for {code}; use \"error\", \"warning\", \"note\" or \"allow\"",
                    manifest.display()
                )
            })?;
            out.severity.insert(code, level);
        }
        out.exclude.extend(raw.exclude.iter().map(|p| dir.join(p)));
        Ok(out)
    }

    pub fn severity_of(&self, code: Code, default: Severity) -> Severity {
        self.severity.get(&code).copied().unwrap_or(default)
    }

    /// Whether `key` is a high-cardinality label key under this configuration.
    pub fn is_denied_key(&self, key: &str) -> bool {
        let lower = key.to_ascii_lowercase();
        if self.allow_keys.contains(&lower) {
            return false;
        }
        observe_attr::names::is_high_cardinality_key(key) || self.deny_keys.contains(&lower)
    }
}

/// What a `Cargo.toml` says about itself.
#[derive(Clone, Debug, Default)]
pub struct Manifest {
    pub package_name: Option<String>,
    pub lib_name: Option<String>,
    pub is_workspace: bool,
    pub workspace_config: Option<RawConfig>,
    pub package_config: Option<RawConfig>,
}

/// Reads a manifest. A manifest that is not valid TOML is an error.
pub fn read_manifest(path: &Path) -> Result<Manifest, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let value: toml::Table = text
        .parse()
        .map_err(|e| format!("{}: invalid TOML: {e}", path.display()))?;
    let table = |v: Option<&toml::Value>, key: &str| v.and_then(|v| v.get(key)).cloned();
    let observe_of = |section: Option<toml::Value>| -> Result<Option<RawConfig>, String> {
        match table(table(section.as_ref(), "metadata").as_ref(), "observe") {
            None => Ok(None),
            Some(v) => v
                .try_into::<RawConfig>()
                .map(Some)
                .map_err(|e| format!("{}: invalid [metadata.observe] table: {e}", path.display())),
        }
    };
    let workspace = value.get("workspace").cloned();
    let package = value.get("package").cloned();
    Ok(Manifest {
        package_name: package
            .as_ref()
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
            .map(String::from),
        lib_name: value
            .get("lib")
            .and_then(|l| l.get("name"))
            .and_then(|n| n.as_str())
            .map(String::from),
        is_workspace: workspace.is_some(),
        workspace_config: observe_of(workspace)?,
        package_config: observe_of(package)?,
    })
}
