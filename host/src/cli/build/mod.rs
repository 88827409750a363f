//! `bazaar plugin build`: one command that builds a plugin project of any supported language
//! into a component. Rust goes through cargo; TypeScript and JavaScript through esbuild and
//! componentize-qjs (QuickJS); Python through componentize-py (CPython). The component's
//! imports are exactly the interfaces the manifest's scopes grant (`bazaar.toml`), so what the
//! audit shows, the consent page asks for and the manifest declares are one list.

mod toolchain;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use bazaar::catalog::manifest::Manifest;
use bazaar::policy::Interface;

use super::scaffold::kit::{self, Language};
use super::scaffold::typescript;
pub use toolchain::Toolchain;

/// Why a project could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(
        "{0} is not a plugin project: expected bazaar/kit.toml, or Cargo.toml, src/plugin.ts, src/plugin.js or app.py"
    )]
    NotAProject(String),
    #[error("{path}: {message}")]
    Manifest { path: String, message: String },
    #[error("{program} was not found: building this plugin needs {needs}")]
    Missing { program: String, needs: String },
    #[error("could not install {toolchain}:\n{output}")]
    Install { toolchain: String, output: String },
    #[error("could not run {tool}: {message}")]
    Tool { tool: String, message: String },
    #[error("the build failed:\n{0}")]
    Failed(String),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("no toolchain cache: set BAZAAR_TOOLCHAINS or HOME")]
    NoCache,
    #[error("{0}")]
    Kit(#[from] kit::KitError),
}

impl BuildError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        BuildError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// A built component.
#[derive(Debug)]
pub struct Built {
    pub language: Language,
    pub component: PathBuf,
}

/// Builds the plugin project in `project` into a component.
pub fn build(project: &Path) -> Result<Built, BuildError> {
    let language = language_of(project)?;
    let component = match language {
        Language::Rust => rust(project)?,
        Language::TypeScript | Language::JavaScript => javascript(project, language)?,
        Language::Python => python(project)?,
    };
    Ok(Built { language, component })
}

/// The project's language: what its kit records, or what its files show.
pub fn language_of(project: &Path) -> Result<Language, BuildError> {
    if let Some(record) = kit::Record::read(project)? {
        return Ok(record.language);
    }
    let has = |file: &str| project.join(file).is_file();
    if has("src/plugin.ts") {
        Ok(Language::TypeScript)
    } else if has("src/plugin.js") {
        Ok(Language::JavaScript)
    } else if has("app.py") {
        Ok(Language::Python)
    } else if has("Cargo.toml") {
        Ok(Language::Rust)
    } else {
        Err(BuildError::NotAProject(project.display().to_string()))
    }
}

fn rust(project: &Path) -> Result<PathBuf, BuildError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(project)
        .args(["build", "--target", "wasm32-wasip2", "--release"])
        .status()
        .map_err(|e| BuildError::Missing {
            program: format!("cargo ({e})"),
            needs: "a Rust toolchain with the wasm32-wasip2 target (rustup target add wasm32-wasip2)".into(),
        })?;
    if !status.success() {
        return Err(BuildError::Failed(
            "cargo build failed (its errors are above)".into(),
        ));
    }
    let manifest_path = project.join("Cargo.toml");
    let manifest = std::fs::read_to_string(&manifest_path).map_err(|e| BuildError::io(&manifest_path, e))?;
    let name = manifest
        .parse::<toml::Table>()
        .ok()
        .and_then(|t| t.get("package")?.get("name")?.as_str().map(str::to_owned))
        .ok_or_else(|| BuildError::Manifest {
            path: manifest_path.display().to_string(),
            message: "no [package] name".into(),
        })?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| project.join("target"));
    Ok(target
        .join("wasm32-wasip2/release")
        .join(format!("{}.wasm", name.replace('-', "_"))))
}

/// The project's manifest, which says which scopes (and so which imports) the plugin has.
fn manifest(project: &Path) -> Result<Manifest, BuildError> {
    let path = project.join("bazaar.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| BuildError::io(&path, e))?;
    let problem = |message: String| BuildError::Manifest {
        path: path.display().to_string(),
        message,
    };
    let manifest = Manifest::from_toml(&text).map_err(|e| problem(e.to_string()))?;
    // The catalog would refuse the upload: say so now, before a build.
    let problems: Vec<String> = manifest.validate(true).iter().map(ToString::to_string).collect();
    if !problems.is_empty() {
        return Err(problem(problems.join("; ")));
    }
    Ok(manifest)
}

/// The folder of the project's kit entry `inside` (`sdks/python`, `wit`): the vendored one in
/// `bazaar/`, or, for the examples inside Bazaar's own repository, the nearest ancestor's.
fn kit_path(project: &Path, inside: &str) -> Result<PathBuf, BuildError> {
    let vendored = project.join(kit::FOLDER).join(inside);
    if vendored.exists() {
        return Ok(vendored);
    }
    let absolute = std::path::absolute(project).map_err(|e| BuildError::io(project, e))?;
    absolute
        .ancestors()
        .map(|dir| dir.join(inside))
        .find(|candidate| candidate.exists())
        .ok_or_else(|| {
            BuildError::NotAProject(format!("{} (no {}/{inside})", project.display(), kit::FOLDER))
        })
}

/// The interfaces the manifest's scopes grant, and the others; `connections` only for a
/// manifest that declares some.
fn split_interfaces(manifest: &Manifest) -> (Vec<Interface>, Vec<Interface>) {
    let granted = manifest.scope_set();
    Interface::ALL.into_iter().partition(|i| {
        i.scope().is_none_or(|scope| granted.contains(scope))
            && (*i != Interface::Connections || !manifest.connections.is_empty())
    })
}

/// The build's WIT folder: the contract, and a world `build` importing `granted` and exporting
/// the UI interface when the manifest names places for UI, and `triggers` when it declares some.
fn world(out: &Path, granted: &[Interface], ui: bool, triggers: bool) -> Result<PathBuf, BuildError> {
    let dir = out.join("wit");
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in kit::wit_files() {
        let name = Path::new(path).file_name().unwrap_or_default();
        kit::write_file(&dir.join(name), text)?;
    }
    let mut world = format!(
        "package {};\n\n/// What `bazaar plugin build` links: the interfaces the manifest's scopes grant.\nworld build {{\n",
        kit::contract()
    );
    for interface in granted.iter().filter(|i| **i != Interface::Types) {
        writeln!(world, "    import {};", interface.name()).ok();
    }
    world += "\n    export handler;\n    export hooks;\n";
    if ui {
        world += "    export extension;\n";
    }
    if triggers {
        world += "    export triggers;\n";
    }
    world += "}\n";
    kit::write_file(&dir.join("build.wit"), &world)?;
    Ok(dir)
}

/// Where a non-Rust build writes: `target/bazaar/` in the project.
fn out_dir(project: &Path) -> PathBuf {
    project.join("target").join("bazaar")
}

fn javascript(project: &Path, language: Language) -> Result<PathBuf, BuildError> {
    let manifest = manifest(project)?;
    let entry = project.join(match language {
        Language::TypeScript => "src/plugin.ts",
        _ => "src/plugin.js",
    });
    if !entry.is_file() {
        return Err(BuildError::NotAProject(format!(
            "{} (no {})",
            project.display(),
            entry.display()
        )));
    }
    let tools = Toolchain::JavaScript.ensure()?;
    let out = out_dir(project);
    let (granted, ungranted) = split_interfaces(&manifest);
    let wit = world(
        &out,
        &granted,
        !manifest.ui.is_empty(),
        !manifest.triggers.is_empty(),
    )?;
    let version = bazaar::contract::newest().version;
    let module = |i: &Interface| format!("bazaar:platform/{}@{version}", i.name());
    let functions: std::collections::BTreeMap<String, Vec<String>> =
        typescript::functions()?.into_iter().collect();
    let stubs: serde_json::Map<String, serde_json::Value> = ungranted
        .iter()
        .map(|i| {
            let scope = i.scope().map(|s| s.to_string()).unwrap_or_default();
            let message = if *i == Interface::Connections && manifest.scope_set().contains(bazaar::platform::Scope::Network) {
                format!(
                    "`{}` needs a [[connections]] entry in this plugin's bazaar.toml: declare the connection and build again",
                    module(i)
                )
            } else {
                format!(
                    "`{}` needs the `{scope}` scope, which this plugin's bazaar.toml does not ask for: add it to its [[scopes]] and build again",
                    module(i)
                )
            };
            let names = functions.get(i.name()).cloned().unwrap_or_default();
            (module(i), serde_json::json!({ "message": message, "functions": names }))
        })
        .collect();
    let component = out.join(format!("{}.wasm", manifest.slug));
    let job = serde_json::json!({
        "toolchain": tools,
        "entry": std::path::absolute(&entry).map_err(|e| BuildError::io(&entry, e))?,
        "sdk": kit_path(project, "sdks/typescript/src/index.ts")?,
        "granted": granted.iter().map(module).collect::<Vec<_>>(),
        "ungranted": stubs,
        "contract": kit::contract(),
        "wit": wit,
        "world": "build",
        "bundle": out.join("bundle.js"),
        "output": component,
    });
    let job_file = out.join("job.json");
    kit::write_file(&job_file, &job.to_string())?;
    let script = out.join("build-js.mjs");
    kit::write_file(&script, include_str!("build-js.mjs"))?;
    run(Command::new("node").arg(&script).arg(&job_file), "node")?;
    Ok(component)
}

fn python(project: &Path) -> Result<PathBuf, BuildError> {
    let manifest = manifest(project)?;
    let tools = Toolchain::Python.ensure()?;
    let out = out_dir(project);
    let (granted, _) = split_interfaces(&manifest);
    let wit = world(
        &out,
        &granted,
        !manifest.ui.is_empty(),
        !manifest.triggers.is_empty(),
    )?;
    let sdk = kit_path(project, "sdks/python")?;
    let component = out.join(format!("{}.wasm", manifest.slug));
    let mut command = Command::new("python3");
    command
        .env("PYTHONPATH", &tools)
        .arg("-c")
        .arg("import sys; from componentize_py import script; sys.argv[0] = 'componentize-py'; sys.exit(script())")
        .arg("--wit-path")
        .arg(&wit)
        .args(["--world", "build", "componentize", "app", "--stub-wasi", "--python-path"])
        .arg(project)
        .arg("--python-path")
        .arg(&sdk)
        .arg("--output")
        .arg(&component);
    run(&mut command, "componentize-py")?;
    Ok(component)
}

fn run(command: &mut Command, tool: &str) -> Result<(), BuildError> {
    let output = command.output().map_err(|e| BuildError::Tool {
        tool: tool.to_owned(),
        message: e.to_string(),
    })?;
    if output.status.success() {
        Ok(())
    } else {
        let mut text = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        if text.is_empty() {
            text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        }
        Err(BuildError::Failed(text))
    }
}
