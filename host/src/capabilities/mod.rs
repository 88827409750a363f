//! What a plugin may reach, decided in one place.
//!
//! Capability = WIT interface = scope. A component's imports are its capability list: each import
//! maps to the scope that grants it (or to none, or to a refusal), the audit reports that
//! mapping, and [`check_grants`] refuses to run a component whose imports need a scope the
//! installation was not granted. Host functions check the grant again when called.

pub mod config;
pub mod files;
pub mod http;
pub mod kv;
pub mod log;
pub mod projects;
pub mod tasks;

use crate::platform::{Scope, ScopeSet};

/// Versions of `bazaar:platform` this host links. A released version is frozen.
pub const SUPPORTED_VERSIONS: [&str; 1] = ["0.1.0"];

/// What one import of a component means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportRule {
    /// Always available: Bazaar's `types`, `log`, `config`, and WASI's inert baseline (empty
    /// environment and arguments, clocks, random, captured stdout/stderr).
    Free { what: &'static str },
    /// Needs this scope.
    Scoped { scope: Scope, what: &'static str },
    /// WASI filesystem: the installation's own folder, with `files:read` or `files:write`.
    Files,
    /// Never allowed, whatever the grants.
    Refused { reason: String },
}

impl ImportRule {
    /// The scope that grants this import, if one does (`files:read` for the filesystem).
    pub fn scope(&self) -> Option<Scope> {
        match self {
            ImportRule::Scoped { scope, .. } => Some(*scope),
            ImportRule::Files => Some(Scope::FilesRead),
            _ => None,
        }
    }
}

/// Bazaar's interfaces: name, scope, and what they let a plugin do.
const BAZAAR: [(&str, Option<Scope>, &str); 9] = [
    ("types", None, "shared records and the error type"),
    ("log", None, "write to its own log"),
    ("config", None, "read this installation's configuration"),
    (
        "kv",
        Some(Scope::Storage),
        "keep data in its private key-value store",
    ),
    (
        "projects",
        Some(Scope::ProjectsRead),
        "read the organization's projects",
    ),
    ("projects-write", Some(Scope::ProjectsWrite), "create projects"),
    ("tasks", Some(Scope::TasksRead), "read the organization's tasks"),
    (
        "tasks-write",
        Some(Scope::TasksWrite),
        "create, label and complete tasks",
    ),
    (
        "http",
        Some(Scope::Network),
        "send HTTP requests to the hosts its manifest declares",
    ),
];

/// WASI packages every Rust plugin links through its standard library; none grants authority
/// here (no environment, no arguments, no stdin, output captured into the plugin log).
const WASI_BASELINE: [(&str, &str); 4] = [
    ("cli", "standard streams, an empty environment, exit"),
    ("io", "streams and polling"),
    ("clocks", "the time"),
    ("random", "random numbers"),
];

/// What a plugin holding `scope` can call, in words: the WIT interfaces behind the scope.
pub fn interfaces_for(scope: Scope) -> Vec<String> {
    let mut found: Vec<String> = BAZAAR
        .iter()
        .filter(|(_, s, _)| *s == Some(scope))
        .map(|(name, _, what)| format!("`bazaar:platform/{name}` lets it {what}"))
        .collect();
    match scope {
        Scope::FilesRead => found.push("`wasi:filesystem` lets it read files in its own folder".into()),
        Scope::FilesWrite => {
            found.push("`wasi:filesystem` lets it create and change files in its own folder".into())
        }
        _ => {}
    }
    found
}

/// Maps one import name (`bazaar:platform/kv@0.1.0`, `wasi:sockets/tcp@0.2.6`) to its rule.
pub fn rule_for(import: &str) -> ImportRule {
    let (name, version) = import.split_once('@').unwrap_or((import, ""));
    let Some((package, interface)) = name.split_once('/') else {
        return ImportRule::Refused {
            reason: format!("`{import}` is not an interface import"),
        };
    };
    match package {
        "bazaar:platform" => {
            if !SUPPORTED_VERSIONS.contains(&version) {
                return ImportRule::Refused {
                    reason: format!(
                        "bazaar:platform@{version} is not supported by this host (supported: {})",
                        SUPPORTED_VERSIONS.join(", ")
                    ),
                };
            }
            match BAZAAR.iter().find(|(n, ..)| *n == interface) {
                Some((_, None, what)) => ImportRule::Free { what },
                Some((_, Some(scope), what)) => ImportRule::Scoped { scope: *scope, what },
                None => ImportRule::Refused {
                    reason: format!("bazaar:platform has no interface `{interface}`"),
                },
            }
        }
        "wasi:filesystem" => ImportRule::Files,
        "wasi:sockets" => ImportRule::Refused {
            reason: "raw sockets are never available; use the `http` interface (scope `network`)".into(),
        },
        other => match other
            .strip_prefix("wasi:")
            .and_then(|p| WASI_BASELINE.iter().find(|(n, _)| *n == p))
        {
            Some((_, what)) => ImportRule::Free { what },
            None => ImportRule::Refused {
                reason: format!("`{other}` is neither a Bazaar interface nor an allowed WASI interface"),
            },
        },
    }
}

/// Why a component may not run with the scopes granted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantRefusal {
    #[error("the component imports {import}, which is never allowed: {reason}")]
    Forbidden { import: String, reason: String },
    #[error(
        "the component imports {import}, which needs the `{scope}` scope; this installation was not granted it"
    )]
    MissingScope { import: String, scope: Scope },
}

/// Checks every import against the granted scopes: the first import that is forbidden or whose
/// scope is missing refuses the whole component.
pub fn check_grants<'a>(
    imports: impl IntoIterator<Item = &'a str>,
    granted: ScopeSet,
) -> Result<(), GrantRefusal> {
    for import in imports {
        match rule_for(import) {
            ImportRule::Free { .. } => {}
            ImportRule::Scoped { scope, .. } if granted.contains(scope) => {}
            ImportRule::Scoped { scope, .. } => {
                return Err(GrantRefusal::MissingScope {
                    import: import.to_owned(),
                    scope,
                });
            }
            ImportRule::Files if files_access(granted).is_some() => {}
            ImportRule::Files => {
                return Err(GrantRefusal::MissingScope {
                    import: import.to_owned(),
                    scope: Scope::FilesRead,
                });
            }
            ImportRule::Refused { reason } => {
                return Err(GrantRefusal::Forbidden {
                    import: import.to_owned(),
                    reason,
                });
            }
        }
    }
    Ok(())
}

/// How the installation's folder is opened: `Some(true)` writable, `Some(false)` read-only.
pub fn files_access(granted: ScopeSet) -> Option<bool> {
    if granted.contains(Scope::FilesWrite) {
        Some(true)
    } else if granted.contains(Scope::FilesRead) {
        Some(false)
    } else {
        None
    }
}

/// The error a host function returns when called without its scope (defence in depth: the
/// import check should have refused the component already).
pub fn forbidden(scope: Scope) -> crate::runtime::bindings::Error {
    crate::runtime::bindings::Error::Forbidden(format!(
        "this installation was not granted the `{scope}` scope"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(scopes: &[Scope]) -> ScopeSet {
        scopes.iter().copied().collect()
    }

    #[test]
    fn each_bazaar_interface_needs_its_scope() {
        let kv = "bazaar:platform/kv@0.1.0";
        let err = check_grants([kv], ScopeSet::default()).unwrap_err();
        assert_eq!(
            err,
            GrantRefusal::MissingScope {
                import: kv.into(),
                scope: Scope::Storage
            }
        );
        assert!(err.to_string().contains("`storage`"));
        assert!(check_grants([kv], grants(&[Scope::Storage])).is_ok());
        for (interface, scope) in [
            ("projects", Scope::ProjectsRead),
            ("projects-write", Scope::ProjectsWrite),
            ("tasks", Scope::TasksRead),
            ("tasks-write", Scope::TasksWrite),
            ("http", Scope::Network),
        ] {
            let import = format!("bazaar:platform/{interface}@0.1.0");
            assert!(
                check_grants(
                    [import.as_str()],
                    ScopeSet::all().iter().filter(|s| *s != scope).collect()
                )
                .is_err()
            );
            assert!(check_grants([import.as_str()], grants(&[scope])).is_ok());
        }
    }

    #[test]
    fn filesystem_needs_a_files_scope_and_write_implies_read() {
        let fs = "wasi:filesystem/types@0.2.6";
        assert!(check_grants([fs], grants(&[Scope::Storage])).is_err());
        assert!(check_grants([fs], grants(&[Scope::FilesRead])).is_ok());
        assert_eq!(files_access(grants(&[Scope::FilesWrite])), Some(true));
        assert_eq!(files_access(grants(&[Scope::FilesRead])), Some(false));
    }

    #[test]
    fn sockets_and_foreign_imports_are_refused_whatever_the_grants() {
        for import in [
            "wasi:sockets/tcp@0.2.6",
            "wasi:http/outgoing-handler@0.2.6",
            "acme:evil/backdoor@1.0.0",
        ] {
            assert!(
                matches!(
                    check_grants([import], ScopeSet::all()),
                    Err(GrantRefusal::Forbidden { .. })
                ),
                "{import}"
            );
        }
        assert!(matches!(
            rule_for("bazaar:platform/kv@9.9.9"),
            ImportRule::Refused { .. }
        ));
    }

    #[test]
    fn the_wasi_baseline_and_free_interfaces_need_nothing() {
        let free = [
            "wasi:cli/environment@0.2.6",
            "wasi:io/streams@0.2.6",
            "bazaar:platform/log@0.1.0",
            "bazaar:platform/types@0.1.0",
        ];
        assert!(check_grants(free, ScopeSet::default()).is_ok());
    }
}
