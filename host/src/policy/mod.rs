//! Every scope rule in one place, for a security reviewer to read and for the code to ask.
//!
//! - [`egress`]: which hosts and addresses outbound requests may reach.
//! - [`imports`]: which scope each WIT import of a component needs (the audit, the review and
//!   the linker's grant check read it; host functions check it again when called).
//! - [`event_rule`]: which scope a subscriber needs to receive each kind of event (the manifest
//!   check, fan-out, REST hooks, the consent page and the docs read it).
//! - [`app_may_hold`]: which scopes an app may ask for in its manifest and be granted.
//! - [`ROUTES`]: which scope each `/v1` route needs (the handlers name it in their signatures;
//!   a test checks them and the OpenAPI document against this table).

pub mod connections;
pub mod egress;
pub mod imports;

pub use imports::{
    GrantRefusal, ImportRule, Interface, InterfaceUse, SUPPORTED_VERSIONS, check_grants, check_rules,
    files_access, interfaces_for, rule_for, rules_of,
};

use crate::platform::{Scope, ScopeSet};

/// Who an event is delivered to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receiver<'a> {
    /// An app's installation (a plugin run, or an external app's webhook), by its id.
    Installation(&'a str),
    /// An organization's credential: a REST hook made with an API key.
    Credential,
}

/// What receiving one kind of event takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventRule {
    /// The read scope of the resource the event carries: receiving it is reading it.
    Resource(Scope),
    /// `app.*` events, about an installation of an app. An app receives those about its own
    /// installation with no scope (it may always learn it was installed, upgraded, paused or
    /// resumed, as GitHub Apps receive their `installation` events), and never another app's;
    /// an organization's credential needs `installations:read` and receives them all.
    AppLifecycle,
}

/// The rule for `kind` (`task.created`), or `None` for a kind Bazaar does not emit.
pub fn event_rule(kind: &str) -> Option<EventRule> {
    match kind.split_once('.')?.0 {
        "project" => Some(EventRule::Resource(Scope::ProjectsRead)),
        "task" => Some(EventRule::Resource(Scope::TasksRead)),
        "app" => Some(EventRule::AppLifecycle),
        _ => None,
    }
}

impl EventRule {
    /// The scope an app must declare to subscribe to events under this rule.
    pub fn app_needs(self) -> Option<Scope> {
        match self {
            EventRule::Resource(scope) => Some(scope),
            EventRule::AppLifecycle => None,
        }
    }

    /// The scope an organization's credential must hold to subscribe.
    pub fn credential_needs(self) -> Scope {
        match self {
            EventRule::Resource(scope) => scope,
            EventRule::AppLifecycle => Scope::InstallationsRead,
        }
    }

    /// What subscribing means, in the words of the consent page and the docs.
    pub fn describe(self) -> String {
        match self {
            EventRule::Resource(scope) => {
                format!("needs the {scope} permission: the event carries the resource")
            }
            EventRule::AppLifecycle => {
                "needs no scope: an app receives these about its own installation only".to_owned()
            }
        }
    }
}

/// Why a subscriber may not receive an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventRefusal {
    #[error("unknown event kind `{0}`")]
    UnknownKind(String),
    #[error("receiving `{kind}` needs the `{scope}` scope")]
    MissingScope { kind: String, scope: Scope },
    #[error("`{kind}` is about another app's installation")]
    NotItsInstallation { kind: String },
}

/// Whether `receiver`, holding `scopes`, receives an event of `kind` about `subject_id`.
pub fn may_receive(
    receiver: Receiver<'_>,
    scopes: ScopeSet,
    kind: &str,
    subject_id: &str,
) -> Result<(), EventRefusal> {
    let rule = event_rule(kind).ok_or_else(|| EventRefusal::UnknownKind(kind.to_owned()))?;
    let needed = match receiver {
        Receiver::Installation(id) => {
            if rule == EventRule::AppLifecycle && subject_id != id {
                return Err(EventRefusal::NotItsInstallation {
                    kind: kind.to_owned(),
                });
            }
            rule.app_needs()
        }
        Receiver::Credential => Some(rule.credential_needs()),
    };
    match needed {
        Some(scope) if !scopes.contains(scope) => Err(EventRefusal::MissingScope {
            kind: kind.to_owned(),
            scope,
        }),
        _ => Ok(()),
    }
}

/// Whether an app may ask for `scope` in its manifest: not the scopes that manage the
/// organization itself (its keys, members, apps and installations), nor the platform's own.
pub fn app_may_hold(scope: Scope) -> bool {
    !scope.is_platform()
        && !matches!(
            scope,
            Scope::KeysRead
                | Scope::KeysWrite
                | Scope::MembersWrite
                | Scope::AppsRead
                | Scope::AppsWrite
                | Scope::InstallationsRead
                | Scope::InstallationsWrite
        )
}

/// Every scope an app may hold (what OAuth metadata and the manifest check offer).
pub fn app_scopes() -> ScopeSet {
    Scope::ALL.iter().copied().filter(|s| app_may_hold(*s)).collect()
}

/// Every `/v1` route with the scope it needs (`None`: signing in and out, signing up, and `/me`,
/// which any valid credential may call).
pub const ROUTES: &[(&str, &str, Option<Scope>)] = &[
    ("GET", "/v1/api-keys", Some(Scope::KeysRead)),
    ("POST", "/v1/api-keys", Some(Scope::KeysWrite)),
    ("DELETE", "/v1/api-keys/{id}", Some(Scope::KeysWrite)),
    ("GET", "/v1/apps", Some(Scope::AppsWrite)),
    ("POST", "/v1/apps", Some(Scope::AppsWrite)),
    ("GET", "/v1/apps/{id}", Some(Scope::AppsWrite)),
    ("GET", "/v1/apps/{id}/analytics", Some(Scope::AppsRead)),
    ("GET", "/v1/apps/{id}/recordings", Some(Scope::AppsWrite)),
    ("GET", "/v1/apps/{id}/invocations", Some(Scope::AppsWrite)),
    ("PUT", "/v1/apps/{id}/icon", Some(Scope::AppsWrite)),
    ("POST", "/v1/apps/{id}/screenshots", Some(Scope::AppsWrite)),
    (
        "DELETE",
        "/v1/apps/{id}/screenshots/{sha256}",
        Some(Scope::AppsWrite),
    ),
    ("PUT", "/v1/apps/{id}/reviews/{org}/reply", Some(Scope::AppsWrite)),
    ("PUT", "/v1/publisher", Some(Scope::AppsWrite)),
    ("GET", "/v1/publishers/{slug}", Some(Scope::AppsRead)),
    (
        "PUT",
        "/v1/review/publishers/{org_id}/verification",
        Some(Scope::AppsReview),
    ),
    ("POST", "/v1/apps/{id}/client-secret", Some(Scope::AppsWrite)),
    (
        "PUT",
        "/v1/apps/{id}/connections/{name}/client",
        Some(Scope::AppsWrite),
    ),
    ("GET", "/v1/apps/{id}/versions", Some(Scope::AppsWrite)),
    ("POST", "/v1/apps/{id}/versions", Some(Scope::AppsWrite)),
    (
        "PUT",
        "/v1/apps/{id}/versions/{version_id}/component",
        Some(Scope::AppsWrite),
    ),
    (
        "POST",
        "/v1/apps/{id}/versions/{version_id}/sandbox",
        Some(Scope::AppsWrite),
    ),
    (
        "POST",
        "/v1/apps/{id}/versions/{version_id}/submit",
        Some(Scope::AppsWrite),
    ),
    ("GET", "/v1/catalog", Some(Scope::AppsRead)),
    ("GET", "/v1/catalog/{slug}", Some(Scope::AppsRead)),
    (
        "POST",
        "/v1/catalog/{slug}/ratings",
        Some(Scope::InstallationsWrite),
    ),
    ("GET", "/v1/deliveries", Some(Scope::InstallationsRead)),
    ("POST", "/v1/deliveries/replay", Some(Scope::InstallationsWrite)),
    ("GET", "/v1/deliveries/{id}", Some(Scope::InstallationsRead)),
    (
        "POST",
        "/v1/deliveries/{id}/replay",
        Some(Scope::InstallationsWrite),
    ),
    ("GET", "/v1/events", Some(Scope::EventsRead)),
    ("GET", "/v1/hooks", Some(Scope::HooksRead)),
    ("POST", "/v1/hooks", Some(Scope::HooksWrite)),
    ("DELETE", "/v1/hooks/{id}", Some(Scope::HooksWrite)),
    ("GET", "/v1/installations", Some(Scope::InstallationsRead)),
    ("POST", "/v1/installations", Some(Scope::InstallationsWrite)),
    ("GET", "/v1/installations/{id}", Some(Scope::InstallationsRead)),
    (
        "DELETE",
        "/v1/installations/{id}",
        Some(Scope::InstallationsWrite),
    ),
    (
        "GET",
        "/v1/installations/{id}/analytics",
        Some(Scope::InstallationsRead),
    ),
    (
        "PATCH",
        "/v1/installations/{id}/config",
        Some(Scope::InstallationsWrite),
    ),
    (
        "POST",
        "/v1/installations/{id}/pause",
        Some(Scope::InstallationsWrite),
    ),
    (
        "POST",
        "/v1/installations/{id}/resume",
        Some(Scope::InstallationsWrite),
    ),
    (
        "POST",
        "/v1/installations/{id}/upgrade",
        Some(Scope::InstallationsWrite),
    ),
    // Seeing the place is checked too: `projects:read` for a card, `installations:write` for
    // the settings page (crate::api::installations::act).
    ("POST", "/v1/installations/{id}/actions", Some(Scope::TasksRead)),
    (
        "GET",
        "/v1/installations/{id}/connections",
        Some(Scope::InstallationsRead),
    ),
    (
        "PUT",
        "/v1/installations/{id}/connections/{name}",
        Some(Scope::InstallationsWrite),
    ),
    (
        "DELETE",
        "/v1/installations/{id}/connections/{name}",
        Some(Scope::InstallationsWrite),
    ),
    (
        "POST",
        "/v1/installations/{id}/connections/{name}/sign-in",
        Some(Scope::InstallationsWrite),
    ),
    (
        "GET",
        "/v1/installations/{id}/triggers",
        Some(Scope::InstallationsRead),
    ),
    (
        "PUT",
        "/v1/installations/{id}/recordings-sharing",
        Some(Scope::InstallationsWrite),
    ),
    ("GET", "/v1/recordings", Some(Scope::InstallationsRead)),
    ("GET", "/v1/invocations", Some(Scope::InstallationsRead)),
    ("GET", "/v1/billing/subscriptions", Some(Scope::InstallationsRead)),
    ("GET", "/v1/billing/statement", Some(Scope::InstallationsRead)),
    ("GET", "/v1/billing/payouts", Some(Scope::AppsWrite)),
    ("GET", "/v1/recordings/{id}", Some(Scope::InstallationsRead)),
    (
        "GET",
        "/v1/installations/{id}/triggers/{name}/secret",
        Some(Scope::InstallationsWrite),
    ),
    (
        "POST",
        "/v1/installations/{id}/triggers/{name}/secret/rotate",
        Some(Scope::InstallationsWrite),
    ),
    (
        "GET",
        "/v1/installations/{id}/webhook-secret",
        Some(Scope::InstallationsWrite),
    ),
    (
        "POST",
        "/v1/installations/{id}/webhook-secret/rotate",
        Some(Scope::InstallationsWrite),
    ),
    (
        "POST",
        "/v1/installations/{id}/webhook/enable",
        Some(Scope::InstallationsWrite),
    ),
    ("GET", "/v1/me", None),
    ("GET", "/v1/members", Some(Scope::MembersRead)),
    ("POST", "/v1/members", Some(Scope::MembersWrite)),
    ("DELETE", "/v1/members/{user_id}", Some(Scope::MembersWrite)),
    ("PATCH", "/v1/members/{user_id}", Some(Scope::MembersWrite)),
    ("GET", "/v1/organization", Some(Scope::OrgRead)),
    ("GET", "/v1/projects", Some(Scope::ProjectsRead)),
    ("POST", "/v1/projects", Some(Scope::ProjectsWrite)),
    ("GET", "/v1/projects/{id}", Some(Scope::ProjectsRead)),
    ("PATCH", "/v1/projects/{id}", Some(Scope::ProjectsWrite)),
    ("POST", "/v1/projects/{id}/archive", Some(Scope::ProjectsWrite)),
    ("POST", "/v1/projects/{id}/restore", Some(Scope::ProjectsWrite)),
    ("POST", "/v1/review/apps/{id}/reinstate", Some(Scope::AppsReview)),
    ("POST", "/v1/review/apps/{id}/suspend", Some(Scope::AppsReview)),
    ("GET", "/v1/review/queue", Some(Scope::AppsReview)),
    (
        "POST",
        "/v1/review/versions/{id}/approve",
        Some(Scope::AppsReview),
    ),
    ("POST", "/v1/review/versions/{id}/reject", Some(Scope::AppsReview)),
    ("POST", "/v1/sessions", None),
    ("DELETE", "/v1/sessions/current", None),
    ("POST", "/v1/sessions/switch", None),
    ("POST", "/v1/signup", None),
    ("GET", "/v1/tasks", Some(Scope::TasksRead)),
    ("POST", "/v1/tasks", Some(Scope::TasksWrite)),
    ("GET", "/v1/tasks/{id}", Some(Scope::TasksRead)),
    ("PATCH", "/v1/tasks/{id}", Some(Scope::TasksWrite)),
    ("POST", "/v1/tasks/{id}/complete", Some(Scope::TasksWrite)),
    ("POST", "/v1/tasks/{id}/reopen", Some(Scope::TasksWrite)),
    ("GET", "/v1/triggers/new-project", Some(Scope::ProjectsRead)),
    ("GET", "/v1/triggers/new-task", Some(Scope::TasksRead)),
];

/// The scope `/v1` route `method path` needs, as [`ROUTES`] says; `None` also for an unknown route.
pub fn route_scope(method: &str, path: &str) -> Option<Scope> {
    ROUTES
        .iter()
        .find(|(m, p, _)| *m == method && *p == path)
        .and_then(|(_, _, s)| *s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(scopes: &[Scope]) -> ScopeSet {
        scopes.iter().copied().collect()
    }

    #[test]
    fn resource_events_need_their_read_scope_for_apps_and_credentials_alike() {
        for receiver in [Receiver::Installation("ins_1"), Receiver::Credential] {
            assert!(may_receive(receiver, set(&[Scope::TasksRead]), "task.created", "tsk_1").is_ok());
            assert_eq!(
                may_receive(receiver, set(&[Scope::ProjectsRead]), "task.created", "tsk_1"),
                Err(EventRefusal::MissingScope {
                    kind: "task.created".into(),
                    scope: Scope::TasksRead
                })
            );
            assert!(may_receive(receiver, set(&[Scope::ProjectsRead]), "project.archived", "prj_1").is_ok());
        }
    }

    #[test]
    fn an_app_receives_app_events_about_its_own_installation_only() {
        let none = ScopeSet::default();
        assert!(may_receive(Receiver::Installation("ins_1"), none, "app.installed", "ins_1").is_ok());
        assert!(matches!(
            may_receive(
                Receiver::Installation("ins_1"),
                ScopeSet::all(),
                "app.installed",
                "ins_2"
            ),
            Err(EventRefusal::NotItsInstallation { .. })
        ));
        // The scope a credential needs is one an app can never hold: so it is not what an app needs.
        assert!(!app_may_hold(EventRule::AppLifecycle.credential_needs()));
        assert_eq!(EventRule::AppLifecycle.app_needs(), None);
    }

    #[test]
    fn credentials_need_installations_read_for_app_events() {
        assert!(
            may_receive(
                Receiver::Credential,
                set(&[Scope::InstallationsRead]),
                "app.paused",
                "ins_2"
            )
            .is_ok()
        );
        assert!(
            may_receive(
                Receiver::Credential,
                set(&[Scope::ProjectsRead]),
                "app.paused",
                "ins_2"
            )
            .is_err()
        );
    }

    #[test]
    fn every_event_kind_has_a_rule() {
        for kind in crate::platform::outbox::kinds::ALL {
            assert!(event_rule(kind).is_some(), "{kind}");
        }
        assert!(matches!(
            may_receive(Receiver::Credential, ScopeSet::all(), "user.deleted", "x"),
            Err(EventRefusal::UnknownKind(_))
        ));
    }

    #[test]
    fn apps_never_hold_the_organizations_management_scopes() {
        for scope in [
            Scope::KeysWrite,
            Scope::MembersWrite,
            Scope::InstallationsWrite,
            Scope::AppsReview,
        ] {
            assert!(!app_may_hold(scope), "{scope}");
            assert!(!app_scopes().contains(scope));
        }
        for scope in [
            Scope::TasksRead,
            Scope::Storage,
            Scope::Network,
            Scope::FilesWrite,
        ] {
            assert!(app_may_hold(scope), "{scope}");
        }
    }
}
