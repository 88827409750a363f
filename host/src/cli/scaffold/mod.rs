//! `bazaar plugin new NAME`: a plugin project that builds with nothing but the `bazaar` binary
//! and the language's registry, its SDK and contract vendored in its `bazaar/` folder (see
//! [`kit`]); `bazaar plugin sdk update` ([`update`]) rewrites that folder from a newer binary.

pub mod kit;
mod templates;
pub mod typescript;
pub mod update;

use std::path::{Path, PathBuf};

pub use kit::Language;

/// Why a scaffold could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error(
        "`{0}` is not a valid plugin name: use lowercase letters, digits and dashes, starting with a letter"
    )]
    Name(String),
    #[error("{0} already exists; choose another name or folder (nothing was written)")]
    Exists(String),
    #[error(transparent)]
    Kit(#[from] kit::KitError),
}

/// A project `plugin new` wrote.
pub struct Created {
    pub root: PathBuf,
    pub record: kit::Record,
}

fn valid(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Writes a new plugin project named `name` inside `parent`, in `language`.
pub fn new_plugin(parent: &Path, name: &str, language: Language) -> Result<Created, ScaffoldError> {
    if !valid(name) {
        return Err(ScaffoldError::Name(name.to_owned()));
    }
    let root = parent.join(name);
    if root.exists() {
        return Err(ScaffoldError::Exists(root.display().to_string()));
    }
    let kit = kit::files(language)?;
    let type_name = templates::words(name).concat();
    let mut files = match language {
        Language::Rust => rust_files(name, &type_name),
        Language::TypeScript | Language::JavaScript | Language::Python => templates::files(name, language),
    };
    files.extend([
        ("bazaar.toml", templates::manifest(name)),
        (
            "event.json",
            "{\n  \"kind\": \"task.created\",\n  \"payload\": { \"title\": \"Try the plugin\" }\n}\n"
                .to_owned(),
        ),
        (
            "README.md",
            format!(
                "# {name}\n\nA Bazaar plugin in {language:?}, for the contract {contract}. Build, audit and run it:\n\n\
                 ```sh\n{commands}\n```\n\n`bazaar.toml` is the app's manifest: its `[[scopes]]` are what the \
                 plugin may call, and what the tenant is asked to grant. `bazaar/` holds the SDK and the \
                 contract's WIT, written by `bazaar plugin new`. `bazaar plugin sdk update` rewrites it from \
                 the `bazaar` binary you run and says what changed.\n",
                contract = kit::contract(),
                commands = next_commands(name, language).join("\n"),
            ),
        ),
        (".gitignore", "/target\n/node_modules\n__pycache__/\n".to_owned()),
    ]);
    for (relative, text) in files {
        kit::write_file(&root.join(relative), &text)?;
    }
    let record = kit::write(&root, language, &kit, None)?;
    Ok(Created { root, record })
}

/// The Rust project's own files: its manifest, its source, its guest stack size.
fn rust_files(name: &str, type_name: &str) -> Vec<(&'static str, String)> {
    vec![
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
# The SDK and the WIT contract, vendored by `bazaar plugin new`; `bazaar plugin sdk update`
# rewrites them from the `bazaar` binary you run.
bazaar-sdk = {{ path = "{FOLDER}/{sdk}" }}
serde = {{ version = "1", features = ["derive"] }}

[profile.release]
opt-level = "s"
lto = true
strip = true
panic = "abort"

# A plugin is its own workspace, even when created inside another one.
[workspace]
"#,
                FOLDER = kit::FOLDER,
                sdk = Language::Rust.sdk_folder(),
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
    ]
}

/// The commands that build, audit and run a new project, from inside its folder.
pub fn next_commands(name: &str, language: Language) -> Vec<String> {
    let wasm = match language {
        Language::Rust => format!("target/wasm32-wasip2/release/{}.wasm", name.replace('-', "_")),
        _ => format!("target/bazaar/{name}.wasm"),
    };
    vec![
        "bazaar plugin build".to_owned(),
        format!("bazaar plugin audit {wasm}"),
        format!("bazaar plugin run {wasm} --event event.json"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_folders_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            new_plugin(dir.path(), "Bad Name", Language::Rust),
            Err(ScaffoldError::Name(_))
        ));
        assert!(matches!(
            new_plugin(dir.path(), "../escape", Language::Rust),
            Err(ScaffoldError::Name(_))
        ));
        let created = new_plugin(dir.path(), "my-plugin", Language::Rust).unwrap();
        let lib_path = dir.path().join("my-plugin/src/lib.rs");
        std::fs::write(&lib_path, "// the partner's work").unwrap();
        assert!(matches!(
            new_plugin(dir.path(), "my-plugin", Language::Rust),
            Err(ScaffoldError::Exists(_))
        ));
        assert_eq!(
            std::fs::read_to_string(&lib_path).unwrap(),
            "// the partner's work"
        );
        assert_eq!(created.record.contract, "bazaar:platform@0.2.0");
    }

    #[test]
    fn the_project_depends_on_its_vendored_sdk_by_a_relative_path() {
        let dir = tempfile::tempdir().unwrap();
        let created = new_plugin(dir.path(), "my-plugin", Language::Rust).unwrap();
        let manifest: toml::Table = std::fs::read_to_string(created.root.join("Cargo.toml"))
            .unwrap()
            .parse()
            .unwrap();
        let sdk = manifest["dependencies"]["bazaar-sdk"]["path"].as_str().unwrap();
        assert_eq!(sdk, "bazaar/sdks/rust");
        assert!(created.root.join(sdk).join("src/lib.rs").exists());
        // The SDK's bindings read the newest WIT from `../../wit/0.2.0`, as in the repository.
        assert!(created.root.join(sdk).join("../../wit/0.2.0/plugin.wit").exists());
        let lib = std::fs::read_to_string(created.root.join("src/lib.rs")).unwrap();
        let cargo_config = std::fs::read_to_string(created.root.join(".cargo/config.toml")).unwrap();
        assert!(cargo_config.contains("stack-size=65536"));
        assert!(lib.contains("export_plugin!(MyPlugin)"));
    }
}
