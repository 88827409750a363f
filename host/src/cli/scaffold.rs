//! `bazaar plugin new NAME`: a plugin crate that builds, with a sample event to run it on.

use std::path::{Path, PathBuf};

/// Why a scaffold could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error(
        "`{0}` is not a valid plugin name: use lowercase letters, digits and dashes, starting with a letter"
    )]
    Name(String),
    #[error("{0} already exists; choose another name or folder")]
    Exists(String),
    #[error("could not write {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// Where the SDK this binary was built with lives, for the new crate's path dependency.
pub fn default_sdk_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("sdk-guest")
}

fn valid(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Writes a new plugin crate named `name` inside `parent`; returns its folder.
pub fn new_plugin(parent: &Path, name: &str, sdk: &Path) -> Result<PathBuf, ScaffoldError> {
    if !valid(name) {
        return Err(ScaffoldError::Name(name.to_owned()));
    }
    let root = parent.join(name);
    if root.exists() {
        return Err(ScaffoldError::Exists(root.display().to_string()));
    }
    let sdk = sdk.canonicalize().unwrap_or_else(|_| sdk.to_owned());
    let type_name: String = name
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    let files = [
        (
            "Cargo.toml",
            format!(
                r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
bazaar-sdk = {{ path = "{sdk}" }}
serde = {{ version = "1", features = ["derive"] }}

[profile.release]
opt-level = "s"
lto = true
strip = true
panic = "abort"

# A plugin is its own workspace, even when created inside another one.
[workspace]
"#,
                sdk = sdk.display().to_string().replace('\\', "/")
            ),
        ),
        (
            "src/lib.rs",
            format!(
                r#"//! {name}: a Bazaar plugin.

use bazaar_sdk::{{Error, Event, Plugin, log}};
use serde::Deserialize;

#[derive(Deserialize)]
struct TaskPayload {{
    title: String,
}}

struct {type_name};

impl Plugin for {type_name} {{
    fn on_event(event: Event) -> Result<(), Error> {{
        if event.kind == "task.created" {{
            let task: TaskPayload = event.payload()?;
            log::info(&format!("a task was created: {{}}", task.title));
        }}
        Ok(())
    }}
}}

bazaar_sdk::export_plugin!({type_name});
"#
            ),
        ),
        (
            ".cargo/config.toml",
            "# A 64 KiB guest stack, as Bazaar's own plugins use: less memory to reset per call, so\n\
             # every call of the plugin is faster. A plugin that needs more can raise it.\n\
             [target.wasm32-wasip2]\nrustflags = [\"-C\", \"link-arg=-zstack-size=65536\"]\n"
                .to_owned(),
        ),
        (
            "event.json",
            "{\n  \"kind\": \"task.created\",\n  \"payload\": { \"title\": \"Try the plugin\" }\n}\n"
                .to_owned(),
        ),
        (
            "README.md",
            format!(
                "# {name}\n\nA Bazaar plugin.\n\n```sh\ncargo build --target wasm32-wasip2 --release\n\
                 bazaar plugin audit target/wasm32-wasip2/release/{file}.wasm\n\
                 bazaar plugin run target/wasm32-wasip2/release/{file}.wasm --event event.json\n```\n",
                file = name.replace('-', "_")
            ),
        ),
    ];
    for (relative, text) in files {
        let path = root.join(relative);
        let io = |source| ScaffoldError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        std::fs::write(&path, text).map_err(|source| ScaffoldError::Io {
            path: path.display().to_string(),
            source,
        })?;
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_folders_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            new_plugin(dir.path(), "Bad Name", Path::new(".")),
            Err(ScaffoldError::Name(_))
        ));
        assert!(matches!(
            new_plugin(dir.path(), "../escape", Path::new(".")),
            Err(ScaffoldError::Name(_))
        ));
        new_plugin(dir.path(), "my-plugin", Path::new(".")).unwrap();
        assert!(matches!(
            new_plugin(dir.path(), "my-plugin", Path::new(".")),
            Err(ScaffoldError::Exists(_))
        ));
        let lib = std::fs::read_to_string(dir.path().join("my-plugin/src/lib.rs")).unwrap();
        let cargo_config = std::fs::read_to_string(dir.path().join("my-plugin/.cargo/config.toml")).unwrap();
        assert!(cargo_config.contains("stack-size=65536"));
        assert!(lib.contains("export_plugin!(MyPlugin)"));
    }
}
