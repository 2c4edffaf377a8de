//! Finding the files to read: a gitignore-aware parallel walk that skips
//! `target/`, and for each file its package (crate name, module path and
//! configuration).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::config::{Config, read_manifest};

/// The package a file belongs to.
#[derive(Debug, Default)]
pub struct Package {
    /// The directory of its `Cargo.toml`.
    pub dir: PathBuf,
    /// The library crate's name (`-` replaced by `_`).
    pub crate_name: String,
    /// Its `[package.metadata.observe]` over the workspace's.
    pub config: Config,
}

/// One Rust file to read.
#[derive(Debug)]
pub struct FileEntry {
    /// The path as found, for reading.
    pub path: PathBuf,
    /// The path as shown: relative, with `/`.
    pub display: String,
    /// The module path the file's items live in (`shop::orders`).
    pub module: String,
    /// The package it belongs to.
    pub package: Arc<Package>,
}

/// Every Rust file under the given paths, sorted by path.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<FileEntry>, String> {
    let paths: Vec<PathBuf> = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    // Each file with the root it was found under: a path the user names
    // explicitly is linted even when a configuration excludes it.
    let mut found: Vec<(PathBuf, PathBuf)> = Vec::new();
    // The `exclude` of the manifest a linted directory holds applies to
    // everything below it, nested workspaces (such as test fixtures) included.
    let mut root_excludes: Vec<PathBuf> = Vec::new();
    for root in &paths {
        if !root.exists() {
            return Err(format!("{}: no such file or directory", root.display()));
        }
        if root.is_file() {
            found.push((root.clone(), absolute(root)));
            continue;
        }
        root_excludes.extend(manifest_excludes(root)?);
        found.extend(walk(root).into_iter().map(|path| (path, absolute(root))));
    }
    found.sort();
    found.dedup_by(|a, b| a.0 == b.0);

    let mut packages = Packages::default();
    let mut entries = Vec::with_capacity(found.len());
    for (path, root) in found {
        let absolute = absolute(&path);
        let excluded_by =
            |exclude: &PathBuf| absolute.starts_with(exclude) && !root.starts_with(exclude);
        if root_excludes.iter().any(excluded_by) {
            continue;
        }
        let package = packages.for_file(&absolute)?;
        if package.config.exclude.iter().any(excluded_by) {
            continue;
        }
        let module = module_path(&package, &absolute);
        entries.push(FileEntry {
            display: display_path(&path),
            path,
            module,
            package,
        });
    }
    Ok(entries)
}

/// The `exclude` paths of the workspace and package tables of the manifest
/// in `dir`, if it has one.
fn manifest_excludes(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let manifest_path = dir.join("Cargo.toml");
    if !manifest_path.is_file() {
        return Ok(Vec::new());
    }
    let manifest = read_manifest(&manifest_path)?;
    let dir = absolute(dir);
    Ok([manifest.workspace_config, manifest.package_config]
        .into_iter()
        .flatten()
        .flat_map(|raw| raw.exclude)
        .map(|p| dir.join(p))
        .collect())
}

/// Walks `root` in parallel, honouring `.gitignore` (also outside a git
/// repository) and skipping hidden directories and build output.
fn walk(root: &Path) -> Vec<PathBuf> {
    let found = Mutex::new(Vec::new());
    let walker = ignore::WalkBuilder::new(root)
        .require_git(false)
        .filter_entry(|entry| !is_build_output(entry.path()))
        .build_parallel();
    walker.run(|| {
        Box::new(|entry| {
            if let Ok(entry) = entry {
                let path = entry.path();
                if entry.file_type().is_some_and(|t| t.is_file())
                    && path.extension().is_some_and(|e| e == "rs")
                {
                    found
                        .lock()
                        .expect("walk collector")
                        .push(path.to_path_buf());
                }
            }
            ignore::WalkState::Continue
        })
    });
    found.into_inner().expect("walk collector")
}

/// A cargo `target` directory: named `target` beside a `Cargo.toml`, or
/// marked with a `CACHEDIR.TAG`.
fn is_build_output(path: &Path) -> bool {
    if path.file_name().is_none_or(|n| n != "target") || !path.is_dir() {
        return false;
    }
    path.join("CACHEDIR.TAG").exists()
        || path.parent().is_some_and(|p| p.join("Cargo.toml").exists())
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The path as shown in output: without a leading `./`, with `/`.
pub fn display_path(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let mut text = text.as_str();
    while let Some(rest) = text.strip_prefix("./") {
        text = rest;
    }
    text.to_string()
}

/// Packages by directory, each with its configuration merged over the
/// workspace's.
#[derive(Default)]
struct Packages {
    by_dir: HashMap<PathBuf, Arc<Package>>,
    workspace: HashMap<PathBuf, Config>,
}

impl Packages {
    fn for_file(&mut self, file: &Path) -> Result<Arc<Package>, String> {
        let Some(dir) = file
            .ancestors()
            .skip(1)
            .find(|d| d.join("Cargo.toml").is_file())
        else {
            // A loose file: its own crate.
            let name = file
                .file_stem()
                .map(|s| s.to_string_lossy().replace('-', "_"))
                .unwrap_or_default();
            return Ok(Arc::new(Package {
                dir: file.parent().map(Path::to_path_buf).unwrap_or_default(),
                crate_name: name,
                config: Config::default(),
            }));
        };
        if let Some(package) = self.by_dir.get(dir) {
            return Ok(package.clone());
        }
        let manifest_path = dir.join("Cargo.toml");
        let manifest = read_manifest(&manifest_path)?;
        let base = self.workspace_config(dir, &manifest)?;
        let config = match &manifest.package_config {
            Some(raw) => base.extend(raw, dir, &manifest_path)?,
            None => base,
        };
        let crate_name = manifest
            .lib_name
            .clone()
            .or(manifest.package_name.clone())
            .unwrap_or_else(|| {
                dir.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .replace('-', "_");
        let package = Arc::new(Package {
            dir: dir.to_path_buf(),
            crate_name,
            config,
        });
        self.by_dir.insert(dir.to_path_buf(), package.clone());
        Ok(package)
    }

    /// The configuration of the workspace `dir` belongs to: the nearest
    /// manifest at or above it with a `[workspace]` table.
    fn workspace_config(
        &mut self,
        dir: &Path,
        own: &crate::config::Manifest,
    ) -> Result<Config, String> {
        let mut root = None;
        if own.is_workspace {
            root = Some((dir.to_path_buf(), own.workspace_config.clone()));
        } else {
            for ancestor in dir.ancestors().skip(1) {
                let manifest_path = ancestor.join("Cargo.toml");
                if !manifest_path.is_file() {
                    continue;
                }
                if let Some(config) = self.workspace.get(ancestor) {
                    return Ok(config.clone());
                }
                let manifest = read_manifest(&manifest_path)?;
                if manifest.is_workspace {
                    root = Some((ancestor.to_path_buf(), manifest.workspace_config));
                    break;
                }
            }
        }
        let Some((root, raw)) = root else {
            return Ok(Config::default());
        };
        if let Some(config) = self.workspace.get(&root) {
            return Ok(config.clone());
        }
        let config = match raw {
            Some(raw) => Config::default().extend(&raw, &root, &root.join("Cargo.toml"))?,
            None => Config::default(),
        };
        self.workspace.insert(root, config.clone());
        Ok(config)
    }
}

/// The module path of a file from its place in the package, following
/// cargo's target layout.
fn module_path(package: &Package, file: &Path) -> String {
    let Ok(relative) = file.strip_prefix(&package.dir) else {
        return package.crate_name.clone();
    };
    let parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let (root, rest): (String, &[&str]) = match parts.as_slice() {
        ["src", "bin", name] => (name.to_string(), &[]),
        ["src", "bin", name, rest @ ..] => (name.to_string(), rest),
        ["src", rest @ ..] => (package.crate_name.clone(), rest),
        [dir @ ("tests" | "examples" | "benches"), name] => {
            let _ = dir;
            (name.replace('-', "_"), &[])
        }
        ["tests" | "examples" | "benches", name, rest @ ..] => (name.replace('-', "_"), rest),
        other => (package.crate_name.clone(), other),
    };
    let mut module = root;
    for (i, part) in rest.iter().enumerate() {
        let last = i + 1 == rest.len();
        if last && matches!(*part, "lib" | "main" | "mod") {
            break;
        }
        module.push_str("::");
        module.push_str(&part.replace('-', "_"));
    }
    module
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(file: &str) -> String {
        let package = Package {
            dir: PathBuf::from("/ws/shop"),
            crate_name: "shop".into(),
            config: Config::default(),
        };
        module_path(&package, Path::new(file))
    }

    #[test]
    fn module_paths_follow_cargo_layout() {
        assert_eq!(module("/ws/shop/src/lib.rs"), "shop");
        assert_eq!(module("/ws/shop/src/main.rs"), "shop");
        assert_eq!(module("/ws/shop/src/orders.rs"), "shop::orders");
        assert_eq!(module("/ws/shop/src/orders/mod.rs"), "shop::orders");
        assert_eq!(
            module("/ws/shop/src/orders/refund.rs"),
            "shop::orders::refund"
        );
        assert_eq!(module("/ws/shop/src/bin/admin.rs"), "admin");
        assert_eq!(module("/ws/shop/tests/api-flow.rs"), "api_flow");
        assert_eq!(module("/ws/shop/examples/demo/main.rs"), "demo");
    }

    #[test]
    fn display_paths_are_relative_with_slashes() {
        assert_eq!(display_path(Path::new("./src/lib.rs")), "src/lib.rs");
        assert_eq!(
            display_path(Path::new("crates/a/src/lib.rs")),
            "crates/a/src/lib.rs"
        );
    }
}
