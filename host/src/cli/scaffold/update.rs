//! `bazaar plugin sdk update`: rewrites a project's kit (its SDK and WIT) from the running
//! binary, refuses to lose a partner's edits to it, and says what changed.

use std::path::Path;

use super::kit::{self, KitError, Language, Record};

/// Why a project's kit could not be updated.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error(
        "{0} is not a Bazaar plugin project: it has neither {folder}/kit.toml nor a bazaar-sdk \
         dependency in Cargo.toml; run this in a folder made by `bazaar plugin new`",
        folder = kit::FOLDER
    )]
    NotAProject(String),
    #[error(
        "these files of the kit were changed since they were written, and an update would lose the \
         changes: {}. Move your changes out of {folder}/ (or pass --force to discard them)",
        .0.join(", "),
        folder = kit::FOLDER
    )]
    Edited(Vec<String>),
    #[error("could not rewrite {path}: {source}")]
    Manifest { path: String, source: std::io::Error },
    #[error(transparent)]
    Kit(#[from] KitError),
}

/// What an update did.
#[derive(Debug)]
pub struct Update {
    /// The SDK and contract versions before, when the project had a kit.
    pub before: Option<(String, String)>,
    pub after: (String, String),
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    /// Kit files whose local edits `--force` discarded.
    pub restored: Vec<String>,
    /// The dependency line of a project made before the kit, which pointed outside the project.
    pub migrated_from: Option<String>,
}

impl Update {
    /// Whether the update wrote anything.
    pub fn changed_anything(&self) -> bool {
        self.migrated_from.is_some()
            || !(self.added.is_empty()
                && self.changed.is_empty()
                && self.removed.is_empty()
                && self.restored.is_empty())
    }

    /// The lines `plugin sdk update` prints.
    pub fn summary(&self) -> Vec<String> {
        let (sdk, contract) = &self.after;
        if !self.changed_anything() {
            return vec![format!(
                "the kit is up to date: bazaar-sdk {sdk}, contract {contract}"
            )];
        }
        let mut lines = vec![match &self.before {
            Some(before) if before == &self.after => {
                format!("rewrote the kit's files: bazaar-sdk {sdk}, contract {contract}")
            }
            Some((old_sdk, old_contract)) => format!(
                "updated the kit: bazaar-sdk {old_sdk} -> {sdk}, contract {old_contract} -> {contract}"
            ),
            None => format!("vendored the kit: bazaar-sdk {sdk}, contract {contract}"),
        }];
        if let Some(line) = &self.migrated_from {
            lines.push(format!(
                "  Cargo.toml: `{line}` now points at {}/{}",
                kit::FOLDER,
                Language::Rust.sdk_folder()
            ));
        }
        for (label, paths) in [
            ("added", &self.added),
            ("changed", &self.changed),
            ("removed", &self.removed),
            ("restored", &self.restored),
        ] {
            for path in paths {
                lines.push(format!("  {label:<8} {}/{path}", kit::FOLDER));
            }
        }
        lines
    }
}

/// Updates the kit of the project in `project`. With `force`, edits to kit files are discarded.
pub fn update(project: &Path, force: bool) -> Result<Update, UpdateError> {
    let previous = Record::read(project)?;
    let edited = previous.as_ref().map(|r| r.edited(project)).unwrap_or_default();
    if !edited.is_empty() && !force {
        return Err(UpdateError::Edited(edited));
    }
    let (language, migrated_from) = match &previous {
        Some(record) => (record.language, None),
        None => (Language::Rust, Some(point_at_the_kit(project)?)),
    };
    let files = kit::files(language)?;
    let old = previous.as_ref().map(|r| &r.files);
    let new = kit::write(project, language, &files, previous.as_ref())?;
    let mut update = Update {
        before: previous.as_ref().map(|r| (r.sdk.clone(), r.contract.clone())),
        after: (new.sdk.clone(), new.contract.clone()),
        added: Vec::new(),
        changed: Vec::new(),
        removed: Vec::new(),
        restored: Vec::new(),
        migrated_from,
    };
    for (path, hash) in &new.files {
        match old.and_then(|files| files.get(path)) {
            None => update.added.push(path.clone()),
            Some(previous) if previous != hash => update.changed.push(path.clone()),
            Some(_) => {}
        }
    }
    if let Some(old) = old {
        update.removed = old
            .keys()
            .filter(|path| !new.files.contains_key(*path))
            .cloned()
            .collect();
    }
    // Files a partner edited are rewritten (with --force) even where the kit did not change.
    update.restored = edited
        .into_iter()
        .filter(|path| new.files.contains_key(path) && !update.changed.contains(path))
        .collect();
    Ok(update)
}

/// Rewrites the `bazaar-sdk` dependency of a project made before the kit existed (a path into
/// the checkout the binary was built from) to the vendored SDK; returns the line it replaced.
fn point_at_the_kit(project: &Path) -> Result<String, UpdateError> {
    let path = project.join("Cargo.toml");
    let not_a_project = || UpdateError::NotAProject(project.display().to_string());
    let text = std::fs::read_to_string(&path).map_err(|_| not_a_project())?;
    let old = text
        .lines()
        .find(|line| {
            line.trim_start()
                .strip_prefix("bazaar-sdk")
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .ok_or_else(not_a_project)?
        .to_owned();
    let new = format!(
        "bazaar-sdk = {{ path = \"{}/{}\" }}",
        kit::FOLDER,
        Language::Rust.sdk_folder()
    );
    std::fs::write(&path, text.replacen(&old, &new, 1)).map_err(|source| UpdateError::Manifest {
        path: path.display().to_string(),
        source,
    })?;
    Ok(old.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = super::super::new_plugin(dir.path(), "kit-test", Language::Rust)
            .unwrap()
            .root;
        (dir, root)
    }

    #[test]
    fn an_up_to_date_kit_is_left_alone() {
        let (_dir, root) = project();
        let update = update(&root, false).unwrap();
        assert!(!update.changed_anything());
        assert_eq!(
            update.summary(),
            vec!["the kit is up to date: bazaar-sdk 0.1.0, contract bazaar:platform@0.2.0".to_owned()]
        );
    }

    #[test]
    fn an_older_kit_is_rewritten_and_the_changes_named() {
        let (_dir, root) = project();
        // What an older binary would have written: another text, one file fewer, one more.
        let record_path = root.join("bazaar/kit.toml");
        let mut record = Record::read(&root).unwrap().unwrap();
        let old_lib = "// bazaar-sdk 0.0.9";
        std::fs::write(root.join("bazaar/sdks/rust/src/lib.rs"), old_lib).unwrap();
        record
            .files
            .insert("sdks/rust/src/lib.rs".into(), kit::digest(old_lib));
        // A kit of contract 0.1.0 kept its WIT directly in `wit/`.
        std::fs::remove_file(root.join("bazaar/wit/0.2.0/ui.wit")).unwrap();
        record.files.remove("wit/0.2.0/ui.wit");
        std::fs::write(root.join("bazaar/wit/types.wit"), "old").unwrap();
        record.files.insert("wit/types.wit".into(), kit::digest("old"));
        record.sdk = "0.0.9".into();
        std::fs::write(&record_path, toml::to_string(&record).unwrap()).unwrap();

        let update = update(&root, false).unwrap();
        assert_eq!(update.changed, vec!["sdks/rust/src/lib.rs".to_owned()]);
        assert_eq!(update.added, vec!["wit/0.2.0/ui.wit".to_owned()]);
        assert_eq!(update.removed, vec!["wit/types.wit".to_owned()]);
        assert!(!root.join("bazaar/wit/types.wit").exists());
        assert!(update.summary()[0].contains("bazaar-sdk 0.0.9 -> 0.1.0"));
        assert!(Record::read(&root).unwrap().unwrap().edited(&root).is_empty());
    }

    #[test]
    fn a_partners_edit_to_the_kit_is_never_lost_without_force() {
        let (_dir, root) = project();
        let capabilities = root.join("bazaar/sdks/rust/src/capabilities.rs");
        std::fs::write(&capabilities, "// my patch").unwrap();
        let refused = update(&root, false).unwrap_err();
        assert!(
            matches!(&refused, UpdateError::Edited(paths) if paths == &["sdks/rust/src/capabilities.rs"])
        );
        assert_eq!(std::fs::read_to_string(&capabilities).unwrap(), "// my patch");
        let forced = update(&root, true).unwrap();
        assert_eq!(forced.restored, vec!["sdks/rust/src/capabilities.rs".to_owned()]);
        assert_ne!(std::fs::read_to_string(&capabilities).unwrap(), "// my patch");
    }

    #[test]
    fn a_project_made_before_the_kit_is_moved_onto_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[package]\nname = \"old\"\n\n[dependencies]\nbazaar-sdk = { path = \"/home/someone/bazaar/sdk-guest\" }\nserde = \"1\"\n",
        )
        .unwrap();
        let update = update(dir.path(), false).unwrap();
        assert!(update.migrated_from.as_deref().unwrap().contains("/home/someone"));
        let manifest = std::fs::read_to_string(dir.path().join("Cargo.toml")).unwrap();
        assert!(manifest.contains("bazaar-sdk = { path = \"bazaar/sdks/rust\" }"));
        assert!(!manifest.contains("/home/someone"));
        assert!(manifest.contains("serde = \"1\""));
        assert!(dir.path().join("bazaar/sdks/rust/Cargo.toml").exists());

        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(
            update_of(empty.path()),
            Err(UpdateError::NotAProject(_))
        ));
    }

    fn update_of(path: &Path) -> Result<Update, UpdateError> {
        update(path, false)
    }
}
