//! The partner kit: what the `bazaar` binary carries so that a partner needs nothing else. The
//! WIT of every supported contract version and each language's SDK are compiled into the binary
//! and written into a plugin project's `bazaar/` folder, with a record of what was written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A file of the workspace, compiled into the binary: its path in the workspace and its text.
macro_rules! workspace_file {
    ($path:literal) => {
        (
            $path,
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../", $path)),
        )
    };
}

/// The Rust SDK's sources (its manifest is composed by [`rust_sdk_manifest`]).
const RUST_SDK: &[(&str, &str)] = &[
    workspace_file!("sdks/rust/README.md"),
    workspace_file!("sdks/rust/src/capabilities.rs"),
    workspace_file!("sdks/rust/src/lib.rs"),
    workspace_file!("sdks/rust/src/triggers.rs"),
    workspace_file!("sdks/rust/src/types.rs"),
    workspace_file!("sdks/rust/src/ui.rs"),
];

/// The TypeScript SDK (for TypeScript and JavaScript plugins), whole.
const TYPESCRIPT_SDK: &[(&str, &str)] = &[
    workspace_file!("sdks/typescript/README.md"),
    workspace_file!("sdks/typescript/package.json"),
    workspace_file!("sdks/typescript/src/config.ts"),
    workspace_file!("sdks/typescript/src/connections.ts"),
    workspace_file!("sdks/typescript/src/errors.ts"),
    workspace_file!("sdks/typescript/src/http.ts"),
    workspace_file!("sdks/typescript/src/index.ts"),
    workspace_file!("sdks/typescript/src/kv.ts"),
    workspace_file!("sdks/typescript/src/log.ts"),
    workspace_file!("sdks/typescript/src/projects-write.ts"),
    workspace_file!("sdks/typescript/src/projects.ts"),
    workspace_file!("sdks/typescript/src/tasks-write.ts"),
    workspace_file!("sdks/typescript/src/tasks.ts"),
    workspace_file!("sdks/typescript/src/text.ts"),
    workspace_file!("sdks/typescript/src/trace.ts"),
    workspace_file!("sdks/typescript/src/triggers.ts"),
    workspace_file!("sdks/typescript/src/types.ts"),
    workspace_file!("sdks/typescript/src/ui.ts"),
    workspace_file!("sdks/typescript/src/wit.d.ts"),
];

/// The Python SDK, whole.
const PYTHON_SDK: &[(&str, &str)] = &[
    workspace_file!("sdks/python/README.md"),
    workspace_file!("sdks/python/bazaar_sdk/__init__.py"),
    workspace_file!("sdks/python/bazaar_sdk/_errors.py"),
    workspace_file!("sdks/python/bazaar_sdk/_plugin.py"),
    workspace_file!("sdks/python/bazaar_sdk/config.py"),
    workspace_file!("sdks/python/bazaar_sdk/connections.py"),
    workspace_file!("sdks/python/bazaar_sdk/http.py"),
    workspace_file!("sdks/python/bazaar_sdk/kv.py"),
    workspace_file!("sdks/python/bazaar_sdk/log.py"),
    workspace_file!("sdks/python/bazaar_sdk/projects.py"),
    workspace_file!("sdks/python/bazaar_sdk/tasks.py"),
    workspace_file!("sdks/python/bazaar_sdk/trace.py"),
    workspace_file!("sdks/python/bazaar_sdk/triggers.py"),
    workspace_file!("sdks/python/bazaar_sdk/ui.py"),
];

const RUST_SDK_MANIFEST: &str = workspace_file!("sdks/rust/Cargo.toml").1;
const WORKSPACE_MANIFEST: &str = workspace_file!("Cargo.toml").1;

/// The folder of a plugin project that holds the kit, and the record inside it.
pub const FOLDER: &str = "bazaar";
const RECORD: &str = "kit.toml";

/// The languages a plugin can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Rust,
    #[value(name = "ts", alias = "typescript")]
    #[serde(rename = "typescript")]
    TypeScript,
    #[value(name = "js", alias = "javascript")]
    #[serde(rename = "javascript")]
    JavaScript,
    Python,
}

impl Language {
    /// The SDK's folder inside the kit, as in Bazaar's repository.
    pub fn sdk_folder(self) -> &'static str {
        match self {
            Language::Rust => "sdks/rust",
            Language::TypeScript | Language::JavaScript => "sdks/typescript",
            Language::Python => "sdks/python",
        }
    }

    /// The SDK's sources, by their path in the workspace.
    fn sdk(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Language::Rust => RUST_SDK,
            Language::TypeScript | Language::JavaScript => TYPESCRIPT_SDK,
            Language::Python => PYTHON_SDK,
        }
    }
}

/// Why the kit could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum KitError {
    #[error("could not write {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("could not read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path} is not a kit record written by bazaar: {reason}")]
    Record { path: String, reason: String },
    #[error("the SDK's manifest compiled into this binary is broken: {0}")]
    Manifest(String),
}

/// The newest contract's WIT files, by their path in the workspace (`wit/0.2.0/ui.wit`), and
/// their text: what the kit vendors and the SDKs are built against.
pub fn wit_files() -> &'static [(&'static str, &'static str)] {
    bazaar::contract::newest().files
}

/// The contract version the kit targets: the newest, e.g. `bazaar:platform@0.2.0`.
pub fn contract() -> String {
    bazaar::contract::newest().package()
}

/// The version of the SDKs this binary carries (the workspace's version).
pub fn sdk_version() -> String {
    workspace()
        .ok()
        .and_then(|w| {
            w.get("workspace")?
                .get("package")?
                .get("version")?
                .as_str()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned())
}

fn workspace() -> Result<toml::Table, KitError> {
    WORKSPACE_MANIFEST
        .parse::<toml::Table>()
        .map_err(|e| KitError::Manifest(e.to_string()))
}

/// The Rust SDK's `Cargo.toml` for a project of its own: the workspace's inherited keys filled
/// in, and exact pins relaxed to caret requirements so a partner's other crates can share them.
fn rust_sdk_manifest() -> Result<String, KitError> {
    let broken = |what: &str| KitError::Manifest(format!("no {what}"));
    let workspace = workspace()?;
    let inherited = workspace
        .get("workspace")
        .and_then(|w| w.as_table())
        .ok_or_else(|| broken("[workspace]"))?;
    let package_defaults = inherited
        .get("package")
        .and_then(|p| p.as_table())
        .ok_or_else(|| broken("[workspace.package]"))?;
    let dependency_defaults = inherited
        .get("dependencies")
        .and_then(|d| d.as_table())
        .ok_or_else(|| broken("[workspace.dependencies]"))?;
    let mut manifest = RUST_SDK_MANIFEST
        .parse::<toml::Table>()
        .map_err(|e| KitError::Manifest(e.to_string()))?;
    manifest.remove("lints");
    if let Some(package) = manifest.get_mut("package").and_then(|p| p.as_table_mut()) {
        for (key, value) in package.iter_mut() {
            if value.get("workspace").and_then(|w| w.as_bool()) == Some(true) {
                *value = package_defaults
                    .get(key)
                    .cloned()
                    .ok_or_else(|| broken(&format!("workspace.package.{key}")))?;
            }
        }
    }
    if let Some(dependencies) = manifest.get_mut("dependencies").and_then(|d| d.as_table_mut()) {
        for (name, value) in dependencies.iter_mut() {
            let mut resolved = match dependency_defaults.get(name) {
                Some(toml::Value::String(version)) => {
                    let mut table = toml::Table::new();
                    table.insert("version".into(), toml::Value::String(version.clone()));
                    table
                }
                Some(toml::Value::Table(table)) => table.clone(),
                _ => return Err(broken(&format!("workspace.dependencies.{name}"))),
            };
            if let Some(toml::Value::String(version)) = resolved.get_mut("version") {
                *version = version.trim_start_matches('=').to_owned();
            }
            *value = toml::Value::Table(resolved);
        }
    }
    // `[package]` first, as people write manifests; a `toml::Table` sorts its keys.
    let mut text =
        "# bazaar-sdk, vendored by `bazaar plugin new`; `bazaar plugin sdk update` rewrites it.\n".to_owned();
    let mut keys: Vec<&String> = manifest.keys().collect();
    keys.sort_by_key(|key| (key.as_str() != "package", key.as_str()));
    for key in keys {
        let mut section = toml::Table::new();
        section.insert(key.clone(), manifest[key.as_str()].clone());
        text += &toml::to_string(&section).map_err(|e| KitError::Manifest(e.to_string()))?;
        text += "\n";
    }
    Ok(text)
}

/// Every file of the kit for `language`, by its path inside the kit folder.
pub fn files(language: Language) -> Result<BTreeMap<String, String>, KitError> {
    let mut files = BTreeMap::new();
    files.insert(
        "README.md".to_owned(),
        format!(
            "# The Bazaar kit\n\nWritten by `bazaar plugin new`: the contract ({contract}) in `wit/` and \
             the {language:?} SDK {version} in `{sdk}/`. Do not edit these files: `bazaar plugin sdk \
             update` rewrites them from the `bazaar` binary you run, and says what changed. \
             `{RECORD}` records what was written.\n",
            contract = contract(),
            language = language,
            version = sdk_version(),
            sdk = language.sdk_folder(),
        ),
    );
    for (path, text) in wit_files() {
        files.insert((*path).to_owned(), (*text).to_owned());
    }
    for (path, text) in language.sdk() {
        files.insert((*path).to_owned(), (*text).to_owned());
    }
    if language == Language::Rust {
        files.insert(
            format!("{}/Cargo.toml", language.sdk_folder()),
            rust_sdk_manifest()?,
        );
    }
    Ok(files)
}

/// What a kit folder holds, as recorded when it was written.
#[derive(Debug, Serialize, Deserialize)]
pub struct Record {
    pub language: Language,
    pub sdk: String,
    pub contract: String,
    pub written_by: String,
    /// Each file's SHA-256, by its path inside the kit folder.
    pub files: BTreeMap<String, String>,
}

impl Record {
    /// Reads the record of the kit in `project`, or `None` when there is no kit.
    pub fn read(project: &Path) -> Result<Option<Record>, KitError> {
        let path = project.join(FOLDER).join(RECORD);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(read_error(&path, source)),
        };
        toml::from_str(&text).map(Some).map_err(|e| KitError::Record {
            path: path.display().to_string(),
            reason: e.message().to_owned(),
        })
    }

    /// The kit files whose text on disk is no longer what was written (or that are missing).
    pub fn edited(&self, project: &Path) -> Vec<String> {
        let folder = project.join(FOLDER);
        self.files
            .iter()
            .filter(|(path, hash)| {
                std::fs::read(folder.join(path))
                    .map(|bytes| digest(&bytes))
                    .ok()
                    .as_ref()
                    != Some(*hash)
            })
            .map(|(path, _)| path.clone())
            .collect()
    }
}

/// A file's SHA-256, as the record keeps it.
pub fn digest(bytes: impl AsRef<[u8]>) -> String {
    let bytes = bytes.as_ref();
    let hash = Sha256::digest(bytes);
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

fn read_error(path: &Path, source: std::io::Error) -> KitError {
    KitError::Read {
        path: path.display().to_string(),
        source,
    }
}

/// Writes `text` at `path`, creating its folders.
pub fn write_file(path: &Path, text: &str) -> Result<(), KitError> {
    let io = |source| KitError::Write {
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    std::fs::write(path, text).map_err(io)
}

/// Writes `files` as the kit of `project`, removes the files of `previous` that are no longer in
/// it, and records what was written.
pub fn write(
    project: &Path,
    language: Language,
    files: &BTreeMap<String, String>,
    previous: Option<&Record>,
) -> Result<Record, KitError> {
    let folder = project.join(FOLDER);
    for (path, text) in files {
        write_file(&folder.join(path), text)?;
    }
    for gone in previous
        .into_iter()
        .flat_map(|record| record.files.keys())
        .filter(|path| !files.contains_key(*path))
    {
        let path = folder.join(gone);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(KitError::Write {
                    path: path.display().to_string(),
                    source,
                });
            }
        }
    }
    let record = Record {
        language,
        sdk: sdk_version(),
        contract: contract().to_owned(),
        written_by: format!("bazaar {}", env!("CARGO_PKG_VERSION")),
        files: files
            .iter()
            .map(|(path, text)| (path.clone(), digest(text.as_bytes())))
            .collect(),
    };
    let text = toml::to_string(&record).map_err(|e| KitError::Manifest(e.to_string()))?;
    write_file(
        &folder.join(RECORD),
        &format!("# What `bazaar plugin sdk update` last wrote in this folder. Do not edit.\n{text}"),
    )?;
    Ok(record)
}

/// Writes the WIT of every contract version this binary supports into `dir`, one folder per
/// version; returns the folders written.
pub fn export_wit(dir: &Path) -> Result<Vec<PathBuf>, KitError> {
    let mut written = Vec::new();
    for contract in &bazaar::contract::CONTRACTS {
        let target = dir.join(contract.version);
        for (path, text) in contract.files {
            let name = path.trim_start_matches(&format!("wit/{}/", contract.version));
            write_file(&target.join(name), text)?;
        }
        written.push(target);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    fn listed(dir: &Path, out: &mut Vec<String>, base: &Path) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                listed(&path, out, base);
            } else {
                out.push(path.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }

    #[test]
    fn the_binary_carries_every_file_of_the_contract_and_the_sdk() {
        let base = workspace_dir();
        let mut on_disk = Vec::new();
        listed(&base.join("wit"), &mut on_disk, &base);
        listed(&base.join("sdks"), &mut on_disk, &base);
        on_disk.retain(|path| path != "sdks/rust/Cargo.toml" && !path.contains("__pycache__"));
        on_disk.sort();
        let mut carried: Vec<String> = bazaar::contract::CONTRACTS
            .iter()
            .flat_map(|c| c.files)
            .chain(RUST_SDK)
            .chain(TYPESCRIPT_SDK)
            .chain(PYTHON_SDK)
            .map(|(p, _)| (*p).to_owned())
            .collect();
        carried.sort();
        assert_eq!(carried, on_disk, "add the new file to the kit's lists in kit.rs");
    }

    #[test]
    fn the_vendored_sdk_manifest_stands_alone_with_the_workspace_versions() {
        let manifest: toml::Table = rust_sdk_manifest().unwrap().parse().unwrap();
        let text = toml::to_string(&manifest).unwrap();
        assert!(!text.contains("workspace"), "{text}");
        assert!(!manifest.contains_key("lints"));
        assert_eq!(manifest["package"]["name"].as_str(), Some("bazaar-sdk"));
        assert_eq!(
            manifest["package"]["version"].as_str(),
            Some(sdk_version().as_str())
        );
        let workspace = workspace().unwrap();
        let pinned = workspace["workspace"]["dependencies"]["wit-bindgen"]["version"]
            .as_str()
            .unwrap();
        let vendored = &manifest["dependencies"]["wit-bindgen"];
        assert_eq!(Some(pinned.trim_start_matches('=')), vendored["version"].as_str());
        assert_eq!(vendored["default-features"].as_bool(), Some(false));
        assert!(manifest["dependencies"]["serde"]["features"].as_array().is_some());
    }

    #[test]
    fn the_kit_targets_the_newest_contract_and_exports_every_version() {
        assert_eq!(contract(), "bazaar:platform@0.2.0");
        assert!(wit_files().iter().all(|(path, _)| path.starts_with("wit/0.2.0/")));
        let dir = tempfile::tempdir().unwrap();
        let written = export_wit(dir.path()).unwrap();
        assert_eq!(written, vec![dir.path().join("0.1.0"), dir.path().join("0.2.0")]);
        for contract in &bazaar::contract::CONTRACTS {
            for (path, text) in contract.files {
                let exported =
                    std::fs::read_to_string(dir.path().join(path.trim_start_matches("wit/"))).unwrap();
                assert_eq!(&exported, text);
            }
        }
    }

    #[test]
    fn a_written_kit_notices_edits_and_forgets_removed_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = files(Language::Rust).unwrap();
        files.insert("old.txt".into(), "gone soon".into());
        let first = write(dir.path(), Language::Rust, &files, None).unwrap();
        assert!(first.edited(dir.path()).is_empty());
        let read = Record::read(dir.path()).unwrap().unwrap();
        assert_eq!(read.files, first.files);
        std::fs::write(dir.path().join("bazaar/wit/0.2.0/plugin.wit"), "edited").unwrap();
        assert_eq!(first.edited(dir.path()), vec!["wit/0.2.0/plugin.wit".to_owned()]);
        files.remove("old.txt");
        let second = write(dir.path(), Language::Rust, &files, Some(&first)).unwrap();
        assert!(!dir.path().join("bazaar/old.txt").exists());
        assert!(second.edited(dir.path()).is_empty());
    }
}
