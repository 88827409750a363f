//! Scopes: what a credential may do. Every `/v1` route names exactly one.

use std::fmt;

/// Declares every scope once: the enum, its string form, its plain-words description, and a
/// marker type per scope (in [`need`]) that API handlers name to require it.
macro_rules! scopes {
    ($($variant:ident => $name:literal, $describe:literal;)*) => {
        /// One permission. The string form (`projects:read`) is what API keys, OAuth grants and
        /// the OpenAPI document use.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Scope {
            $($variant,)*
        }

        impl Scope {
            pub const ALL: &'static [Scope] = &[$(Scope::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Scope::$variant => $name,)*
                }
            }

            /// What the scope lets its holder do, in words an admin understands.
            pub fn describe(self) -> &'static str {
                match self {
                    $(Scope::$variant => $describe,)*
                }
            }
        }

        /// Marker types, one per scope, so a handler's signature names the scope it needs.
        pub mod need {
            $(
                #[doc = concat!("The `", $name, "` scope.")]
                pub struct $variant;
                impl super::RequiredScope for $variant {
                    const SCOPE: super::Scope = super::Scope::$variant;
                }
            )*
        }
    };
}

scopes! {
    OrgRead => "org:read", "See the organization's name and settings";
    MembersRead => "members:read", "See who belongs to the organization and their roles";
    MembersWrite => "members:write", "Add and remove members and change their roles";
    KeysRead => "keys:read", "See the organization's API keys (never their secrets)";
    KeysWrite => "keys:write", "Create and revoke API keys";
    ProjectsRead => "projects:read", "See projects";
    ProjectsWrite => "projects:write", "Create, rename and archive projects";
    TasksRead => "tasks:read", "See tasks";
    TasksWrite => "tasks:write", "Create, edit and complete tasks";
    EventsRead => "events:read", "Read the organization's event log";
    Storage => "storage", "Keep its own data in a private key-value store, deleted on uninstall";
    Network => "network", "Send HTTP requests to the internet hosts listed in its manifest";
    FilesRead => "files:read", "Read files in its own folder";
    FilesWrite => "files:write", "Create and change files in its own folder";
    AppsRead => "apps:read", "Browse the app catalog";
    AppsWrite => "apps:write", "Publish and manage the organization's own apps";
    InstallationsRead => "installations:read", "See the apps installed in the organization";
    InstallationsWrite => "installations:write", "Install, configure, pause, upgrade and uninstall apps";
    HooksRead => "hooks:read", "See the URLs subscribed to the organization's events";
    HooksWrite => "hooks:write", "Subscribe URLs to the organization's events (REST hooks)";
    AppsReview => "apps:review", "Review apps for the whole platform: approve, reject, suspend";
}

/// Names one scope at the type level (see [`need`]).
pub trait RequiredScope: Send + Sync + 'static {
    const SCOPE: Scope;
}

impl Scope {
    /// Scopes of the platform's own staff, never of a tenant: only platform reviewers hold them.
    pub fn is_platform(self) -> bool {
        matches!(self, Scope::AppsReview)
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope name that Bazaar does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown scope `{0}`; known scopes are: {known}", known = Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))]
pub struct UnknownScope(pub String);

impl std::str::FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .iter()
            .copied()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| UnknownScope(s.to_owned()))
    }
}

/// A set of scopes, small enough to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScopeSet(u32);

impl ScopeSet {
    /// Every scope an organization's credentials can hold: all but the platform reviewer's.
    pub fn all() -> Self {
        Scope::ALL.iter().copied().filter(|s| !s.is_platform()).collect()
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// True when every scope of `other` is also in `self`.
    pub fn covers(self, other: ScopeSet) -> bool {
        other.0 & !self.0 == 0
    }

    /// The scopes in both sets.
    pub fn intersection(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 & other.0)
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.iter().copied().filter(move |s| self.contains(*s))
    }

    /// The space-separated form used in storage and OAuth (`projects:read tasks:read`).
    pub fn to_text(self) -> String {
        self.iter().map(Scope::as_str).collect::<Vec<_>>().join(" ")
    }

    /// Parses the space-separated form; an unknown name is an error, not ignored.
    pub fn parse_text(text: &str) -> Result<Self, UnknownScope> {
        text.split_whitespace().map(str::parse).collect()
    }

    pub fn names(self) -> Vec<String> {
        self.iter().map(|s| s.as_str().to_owned()).collect()
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        ScopeSet(iter.into_iter().fold(0, |bits, s| bits | s.bit()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips_every_scope() {
        let all = ScopeSet::all();
        assert_eq!(ScopeSet::parse_text(&all.to_text()).unwrap(), all);
        for &scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>().unwrap(), scope);
        }
    }

    #[test]
    fn unknown_scope_is_refused_with_the_list() {
        let err = ScopeSet::parse_text("projects:read projects:admin").unwrap_err();
        assert!(err.to_string().contains("projects:admin"));
        assert!(err.to_string().contains("tasks:write"));
    }

    #[test]
    fn covers_is_subset() {
        let read: ScopeSet = [Scope::ProjectsRead].into_iter().collect();
        let both: ScopeSet = [Scope::ProjectsRead, Scope::ProjectsWrite].into_iter().collect();
        assert!(both.covers(read));
        assert!(!read.covers(both));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Any scope list either parses to known scopes only or is refused naming the culprit.
        #[test]
        fn scope_lists_parse_to_known_scopes_or_fail_clearly(text in "[a-z: ]{0,60}") {
            match ScopeSet::parse_text(&text) {
                Ok(set) => prop_assert_eq!(ScopeSet::parse_text(&set.to_text()).unwrap(), set),
                Err(err) => prop_assert!(err.to_string().contains("unknown scope")),
            }
        }
    }
}
