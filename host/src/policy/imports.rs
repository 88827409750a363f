//! Which scope each WIT import needs: the half of the policy a component's audit, its review
//! and the linker read. A component's imports are its capability list.

use crate::platform::{Scope, ScopeSet};

/// Versions of `bazaar:platform` this host links, oldest first; the last is the newest, which
/// `bazaar plugin new` targets. A released version is frozen (`wit/0.1.0`).
pub const SUPPORTED_VERSIONS: [&str; 2] = ["0.1.0", "0.2.0"];

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
    /// The records of UI blocks (0.2.0 on).
    Ui,
    /// HTTP with a connection's credential attached by the host (0.2.0 on).
    Connections,
    /// The plugin's own spans in the call's trace (0.2.0 on).
    Trace,
}

impl Interface {
    pub const ALL: [Interface; 12] = [
        Interface::Types,
        Interface::Log,
        Interface::Config,
        Interface::Kv,
        Interface::Projects,
        Interface::ProjectsWrite,
        Interface::Tasks,
        Interface::TasksWrite,
        Interface::Http,
        Interface::Ui,
        Interface::Connections,
        Interface::Trace,
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
            Interface::Ui => "ui",
            Interface::Connections => "connections",
            Interface::Trace => "trace",
        }
    }

    /// The scope that grants the interface; `None` for the scope-free ones.
    pub fn scope(self) -> Option<Scope> {
        match self {
            Interface::Types | Interface::Log | Interface::Config | Interface::Ui | Interface::Trace => None,
            Interface::Kv => Some(Scope::Storage),
            Interface::Projects => Some(Scope::ProjectsRead),
            Interface::ProjectsWrite => Some(Scope::ProjectsWrite),
            Interface::Tasks => Some(Scope::TasksRead),
            Interface::TasksWrite => Some(Scope::TasksWrite),
            Interface::Http | Interface::Connections => Some(Scope::Network),
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
            Interface::Ui => "describe UI blocks for the pages its manifest names",
            Interface::Connections => {
                "call the accounts you connect, with credentials Bazaar keeps and it never sees"
            }
            Interface::Trace => "add its own steps to the call's trace",
        }
    }

    /// The first contract version that has the interface.
    pub fn since(self) -> &'static str {
        match self {
            Interface::Ui | Interface::Connections | Interface::Trace => "0.2.0",
            _ => "0.1.0",
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
pub fn interfaces_for(scope: Scope) -> Vec<InterfaceUse> {
    let uses = |interface: &str, lets_it: &str| InterfaceUse {
        interface: interface.to_owned(),
        lets_it: lets_it.to_owned(),
    };
    let mut found: Vec<InterfaceUse> = Interface::ALL
        .into_iter()
        .filter(|i| i.scope() == Some(scope))
        .map(|i| uses(&format!("bazaar:platform/{}", i.name()), i.what()))
        .collect();
    match scope {
        Scope::FilesRead => found.push(uses("wasi:filesystem", "read files in its own folder")),
        Scope::FilesWrite => found.push(uses(
            "wasi:filesystem",
            "create and change files in its own folder",
        )),
        _ => {}
    }
    found
}

/// A WIT interface behind a scope, and what it lets the app do.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct InterfaceUse {
    /// `bazaar:platform/kv`, `wasi:filesystem`.
    pub interface: String,
    /// In words, after "lets it": `keep its own data`.
    pub lets_it: String,
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
                Some(i) if older(version, i.since()) => ImportRule::Refused {
                    reason: format!(
                        "bazaar:platform@{version} has no interface `{interface}` (it came in {})",
                        i.since()
                    ),
                },
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

/// Whether supported version `a` came before `b`.
fn older(a: &str, b: &str) -> bool {
    let at = |v: &str| SUPPORTED_VERSIONS.iter().position(|s| *s == v);
    at(a) < at(b)
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
    fn versions_not_served_and_interfaces_newer_than_their_version_are_refused() {
        assert!(matches!(
            rule_for("bazaar:platform/ui@0.2.0"),
            ImportRule::Free { .. }
        ));
        for import in [
            "bazaar:platform/ui@0.1.0",
            "bazaar:platform/kv@0.3.0",
            "bazaar:platform/kv@1.0.0",
        ] {
            assert!(matches!(rule_for(import), ImportRule::Refused { .. }), "{import}");
        }
        let ImportRule::Refused { reason } = rule_for("bazaar:platform/kv@0.3.0") else {
            unreachable!()
        };
        assert!(reason.contains("supported: 0.1.0, 0.2.0"), "{reason}");
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
        for (interface, scope, version) in [
            ("projects", Scope::ProjectsRead, "0.1.0"),
            ("projects-write", Scope::ProjectsWrite, "0.1.0"),
            ("tasks", Scope::TasksRead, "0.1.0"),
            ("tasks-write", Scope::TasksWrite, "0.1.0"),
            ("http", Scope::Network, "0.1.0"),
            // The same rule in every version served.
            ("kv", Scope::Storage, "0.2.0"),
            ("tasks-write", Scope::TasksWrite, "0.2.0"),
            ("http", Scope::Network, "0.2.0"),
        ] {
            let import = format!("bazaar:platform/{interface}@{version}");
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
