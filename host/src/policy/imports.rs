//! Which scope each WIT import needs: the half of the policy a component's audit, its review
//! and the linker read. A component's imports are its capability list.

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

/// Bazaar's own interfaces, one per capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interface {
    Types,
    Log,
    Config,
    Kv,
    Projects,
    ProjectsWrite,
    Tasks,
    TasksWrite,
    Http,
}

impl Interface {
    pub const ALL: [Interface; 9] = [
        Interface::Types,
        Interface::Log,
        Interface::Config,
        Interface::Kv,
        Interface::Projects,
        Interface::ProjectsWrite,
        Interface::Tasks,
        Interface::TasksWrite,
        Interface::Http,
    ];

    /// The interface's WIT name (`projects-write`).
    pub fn name(self) -> &'static str {
        match self {
            Interface::Types => "types",
            Interface::Log => "log",
            Interface::Config => "config",
            Interface::Kv => "kv",
            Interface::Projects => "projects",
            Interface::ProjectsWrite => "projects-write",
            Interface::Tasks => "tasks",
            Interface::TasksWrite => "tasks-write",
            Interface::Http => "http",
        }
    }

    /// The scope that grants the interface; `None` for the scope-free ones.
    pub fn scope(self) -> Option<Scope> {
        match self {
            Interface::Types | Interface::Log | Interface::Config => None,
            Interface::Kv => Some(Scope::Storage),
            Interface::Projects => Some(Scope::ProjectsRead),
            Interface::ProjectsWrite => Some(Scope::ProjectsWrite),
            Interface::Tasks => Some(Scope::TasksRead),
            Interface::TasksWrite => Some(Scope::TasksWrite),
            Interface::Http => Some(Scope::Network),
        }
    }

    /// What the interface lets a plugin do, completing "lets it ...".
    pub fn what(self) -> &'static str {
        match self {
            Interface::Types => "shared records and the error type",
            Interface::Log => "write to its own log",
            Interface::Config => "read this installation's configuration",
            Interface::Kv => "keep data in its private key-value store",
            Interface::Projects => "read the organization's projects",
            Interface::ProjectsWrite => "create projects",
            Interface::Tasks => "read the organization's tasks",
            Interface::TasksWrite => "create, label and complete tasks",
            Interface::Http => "send HTTP requests to the hosts its manifest declares",
        }
    }

    fn named(name: &str) -> Option<Interface> {
        Interface::ALL.into_iter().find(|i| i.name() == name)
    }
}

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
    let mut found: Vec<String> = Interface::ALL
        .into_iter()
        .filter(|i| i.scope() == Some(scope))
        .map(|i| format!("`bazaar:platform/{}` lets it {}", i.name(), i.what()))
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
            match Interface::named(interface) {
                Some(i) => match i.scope() {
                    None => ImportRule::Free { what: i.what() },
                    Some(scope) => ImportRule::Scoped {
                        scope,
                        what: i.what(),
                    },
                },
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
    check_rules(&rules_of(imports), granted)
}

/// Each import with its rule, mapped once: the host keeps this beside a prepared component so
/// that a call checks the grants without reading import names again.
pub fn rules_of<'a>(imports: impl IntoIterator<Item = &'a str>) -> Vec<(String, ImportRule)> {
    imports.into_iter().map(|i| (i.to_owned(), rule_for(i))).collect()
}

/// [`check_grants`] over rules mapped before by [`rules_of`].
pub fn check_rules(rules: &[(String, ImportRule)], granted: ScopeSet) -> Result<(), GrantRefusal> {
    for (import, rule) in rules {
        match rule {
            ImportRule::Free { .. } => {}
            ImportRule::Scoped { scope, .. } if granted.contains(*scope) => {}
            ImportRule::Scoped { scope, .. } => {
                return Err(GrantRefusal::MissingScope {
                    import: import.to_owned(),
                    scope: *scope,
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
                    reason: reason.clone(),
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
