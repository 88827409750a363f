//! The guest-language toolchains `bazaar plugin build` needs besides the partner's own Node.js
//! or Python, installed from their registries (npm, PyPI) once into a cache, pinned.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::BuildError;

/// A pinned toolchain: what it is, where it lives in the cache, how it is installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Toolchain {
    /// esbuild (bundling TypeScript and JavaScript) and componentize-qjs (QuickJS components).
    JavaScript,
    /// componentize-py (CPython components).
    Python,
}

const COMPONENTIZE_QJS: &str = "0.4.5";
const ESBUILD: &str = "0.28.2";
const COMPONENTIZE_PY: &str = "0.25.1";

impl Toolchain {
    /// In words, with versions, for the progress line.
    pub fn describe(self) -> String {
        match self {
            Toolchain::JavaScript => {
                format!("componentize-qjs {COMPONENTIZE_QJS} and esbuild {ESBUILD} from npm")
            }
            Toolchain::Python => format!("componentize-py {COMPONENTIZE_PY} from PyPI"),
        }
    }

    fn folder(self) -> String {
        match self {
            Toolchain::JavaScript => format!("js-componentize-qjs-{COMPONENTIZE_QJS}-esbuild-{ESBUILD}"),
            Toolchain::Python => format!("python-componentize-py-{COMPONENTIZE_PY}"),
        }
    }

    /// The toolchain's folder, installing it first if the cache does not have it.
    pub fn ensure(self) -> Result<PathBuf, BuildError> {
        let (runtime, installer, _) = self.needs();
        self.check(runtime)?;
        let dir = cache_dir()?.join(self.folder());
        if dir.join(".installed").exists() {
            return Ok(dir);
        }
        if let Some(installer) = installer {
            self.check(installer)?;
        }
        eprintln!(
            "installing the {} toolchain ({}) into {}, once...",
            self.name(),
            self.describe(),
            dir.display()
        );
        // Installed beside its final place and renamed into it, so that an interrupted install
        // or two builds at once never leave a half-installed toolchain in the cache.
        let staging = dir.with_extension(format!("partial-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging).map_err(|e| BuildError::io(&staging, e))?;
        let mut install = match self {
            Toolchain::JavaScript => {
                let manifest = staging.join("package.json");
                std::fs::write(&manifest, "{\"private\": true}\n")
                    .map_err(|e| BuildError::io(&manifest, e))?;
                let mut npm = Command::new("npm");
                npm.current_dir(&staging).args([
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                    &format!("componentize-qjs@{COMPONENTIZE_QJS}"),
                    &format!("esbuild@{ESBUILD}"),
                ]);
                npm
            }
            Toolchain::Python => {
                let mut pip = Command::new("python3");
                pip.args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--target",
                ])
                .arg(&staging)
                .arg(format!("componentize-py=={COMPONENTIZE_PY}"));
                pip
            }
        };
        let output = install.output().map_err(|e| BuildError::Tool {
            tool: format!("the {} installer", self.name()),
            message: e.to_string(),
        })?;
        if !output.status.success() {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(BuildError::Install {
                toolchain: self.describe(),
                output: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            });
        }
        let marker = staging.join(".installed");
        std::fs::write(&marker, self.describe()).map_err(|e| BuildError::io(&marker, e))?;
        if std::fs::rename(&staging, &dir).is_err() {
            // Another build installed it first; theirs is as good as ours.
            let _ = std::fs::remove_dir_all(&staging);
        }
        eprintln!("installed the {} toolchain", self.name());
        Ok(dir)
    }

    fn name(self) -> &'static str {
        match self {
            Toolchain::JavaScript => "JavaScript",
            Toolchain::Python => "Python",
        }
    }

    /// What the partner installs for this language: the runtime every build needs, and the
    /// installer only a first build needs (pip runs as `python3 -m pip`).
    fn needs(self) -> (&'static str, Option<&'static str>, &'static str) {
        match self {
            Toolchain::JavaScript => ("node", Some("npm"), "Node.js 18 or newer, with npm"),
            Toolchain::Python => ("python3", None, "Python 3.10 or newer, with pip"),
        }
    }

    fn check(self, program: &str) -> Result<(), BuildError> {
        let found = Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|output| output.status.success());
        if found {
            Ok(())
        } else {
            Err(BuildError::Missing {
                program: program.to_owned(),
                needs: self.needs().2.to_owned(),
            })
        }
    }
}

/// Where toolchains are kept: `$BAZAAR_TOOLCHAINS`, else `$XDG_CACHE_HOME/bazaar/toolchains`,
/// else `~/.cache/bazaar/toolchains`.
pub fn cache_dir() -> Result<PathBuf, BuildError> {
    if let Some(dir) = std::env::var_os("BAZAAR_TOOLCHAINS").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))
        .ok_or(BuildError::NoCache)?;
    Ok(base.join("bazaar").join("toolchains"))
}
