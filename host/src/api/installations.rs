//! `/v1/installations`: the apps installed in the organization.

use super::json::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Authorized, need};
use super::error::{ApiError, ErrorBody};
use super::extract::ApiJson;
use crate::AppState;
use crate::installs::{self, ConfigInput, Installation};

#[derive(Serialize, ToSchema)]
pub struct InstallationList {
    pub data: Vec<Installation>,
}

/// The organization's installed apps.
#[utoipa::path(get, path = "/v1/installations", tag = "installations",
    security(("bearer" = ["installations:read"]), ("session" = ["installations:read"])),
    responses((status = 200, body = InstallationList), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsRead>,
) -> Result<Json<InstallationList>, ApiError> {
    Ok(Json(InstallationList {
        data: installs::list(&state.store, &who.org_id).await?,
    }))
}

/// One installation; secret configuration values are never returned.
#[utoipa::path(get, path = "/v1/installations/{id}", tag = "installations",
    params(("id" = String, Path, description = "Installation id")),
    security(("bearer" = ["installations:read"]), ("session" = ["installations:read"])),
    responses((status = 200, body = Installation), (status = "4XX", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsRead>,
    Path(id): Path<String>,
) -> Result<Json<Installation>, ApiError> {
    Ok(Json(installs::get(&state.store, &who.org_id, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Install {
    /// The app's slug.
    app: String,
    /// Consent: exactly the scopes the app asks for.
    scopes: Vec<String>,
    /// Values of the app's configuration fields.
    #[serde(default)]
    #[schema(value_type = Object)]
    config: ConfigInput,
    /// A paid app's price, exactly as the catalog shows it: the tenant's agreement to pay it.
    accept_price: Option<crate::billing::Price>,
}

/// Install a published app with consent to its scopes. Emits `app.installed`.
#[utoipa::path(post, path = "/v1/installations", tag = "installations", request_body = Install,
    security(("bearer" = ["installations:write"]), ("session" = ["installations:write"])),
    responses((status = 201, body = Installation), (status = "4XX", body = ErrorBody)))]
pub async fn install(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsWrite>,
    ApiJson(body): ApiJson<Install>,
) -> Result<(StatusCode, Json<Installation>), ApiError> {
    let installation = installs::install(
        &state.store,
        &state.secrets,
        &who.org_id,
        who.user_id(),
        &body.app,
        &body.scopes,
        body.accept_price.as_ref(),
        &body.config,
    )
    .await?;
    // A paid app starts its subscription (or one-time charge); a declined payment undoes the
    // installation.
    let app = crate::catalog::apps::get(&state.store, &installation.app_id).await?;
    let version = crate::catalog::apps::version(&state.store, &installation.version_id).await?;
    if let Err(e) = state
        .billing
        .start(
            &state.store,
            &who.org_id,
            &installation.id,
            &app,
            &version.manifest.pricing,
        )
        .await
    {
        installs::uninstall(&state.store, &state.files_root, &who.org_id, &installation.id).await?;
        return Err(e.into());
    }
    Ok((StatusCode::CREATED, Json(installation)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Configure {
    /// New values; secret fields left out keep their value.
    #[schema(value_type = Object)]
    config: ConfigInput,
}

/// Change the configuration.
#[utoipa::path(patch, path = "/v1/installations/{id}/config", tag = "installations", request_body = Configure,
    params(("id" = String, Path, description = "Installation id")),
    security(("bearer" = ["installations:write"]), ("session" = ["installations:write"])),
    responses((status = 200, body = Installation), (status = "4XX", body = ErrorBody)))]
pub async fn configure(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Configure>,
) -> Result<Json<Installation>, ApiError> {
    Ok(Json(
        installs::configure(&state.store, &state.secrets, &who.org_id, &id, &body.config).await?,
    ))
}

/// Pause: the app receives nothing until resumed. Emits `app.paused`.
#[utoipa::path(post, path = "/v1/installations/{id}/pause", tag = "installations",
    params(("id" = String, Path, description = "Installation id")),
    security(("bearer" = ["installations:write"]), ("session" = ["installations:write"])),
    responses((status = 200, body = Installation), (status = "4XX", body = ErrorBody)))]
pub async fn pause(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsWrite>,
    Path(id): Path<String>,
) -> Result<Json<Installation>, ApiError> {
    Ok(Json(
        installs::set_paused(&state.store, &who.org_id, &id, true)
            .await?
            .installation,
    ))
}

/// Resume a paused installation. Emits `app.resumed`.
#[utoipa::path(post, path = "/v1/installations/{id}/resume", tag = "installations",
    params(("id" = String, Path, description = "Installation id")),
    security(("bearer" = ["installations:write"]), ("session" = ["installations:write"])),
    responses((status = 200, body = Installation), (status = "4XX", body = ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsWrite>,
    Path(id): Path<String>,
) -> Result<Json<Installation>, ApiError> {
    let resumed = installs::set_paused(&state.store, &who.org_id, &id, false).await?;
    // What waited while it was paused goes now, and what a 410-disabled webhook missed.
    crate::events::queue::wake(&state.store, &id).await?;
    if resumed.webhook_reenabled {
        crate::events::queue::replay_held_webhooks(&state.store, &id).await?;
    }
    Ok(Json(resumed.installation))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Upgrade {
    /// Consent to every scope of the new version, needed when it asks for more than granted.
    scopes: Option<Vec<String>>,
    /// The new version's price, needed when it asks one the installation does not pay.
    accept_price: Option<crate::billing::Price>,
}

/// Upgrade to the app's published version. Without the consent a version with new scopes
/// needs, the upgrade waits (`pending_upgrade`) and the current version keeps running.
/// Emits `app.upgraded`.
#[utoipa::path(post, path = "/v1/installations/{id}/upgrade", tag = "installations", request_body = Upgrade,
    params(("id" = String, Path, description = "Installation id")),
    security(("bearer" = ["installations:write"]), ("session" = ["installations:write"])),
    responses((status = 200, body = Installation), (status = "4XX", body = ErrorBody)))]
pub async fn upgrade(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Upgrade>,
) -> Result<Json<Installation>, ApiError> {
    let before = installs::get(&state.store, &who.org_id, &id).await?;
    let after = installs::upgrade(
        &state.store,
        &who.org_id,
        &id,
        body.scopes.as_deref(),
        body.accept_price.as_ref(),
    )
    .await?;
    if after.version_id != before.version_id {
        // The new version's price, if it changed, from now on.
        let app = crate::catalog::apps::get(&state.store, &after.app_id).await?;
        let from = crate::catalog::apps::version(&state.store, &before.version_id).await?;
        let to = crate::catalog::apps::version(&state.store, &after.version_id).await?;
        state
            .billing
            .reprice(
                &state.store,
                &who.org_id,
                &id,
                &app,
                &from.manifest.pricing,
                &to.manifest.pricing,
            )
            .await?;
    }
    Ok(Json(after))
}

/// Uninstall: the app's data for this organization is deleted. Emits `app.uninstalled`.
#[utoipa::path(delete, path = "/v1/installations/{id}", tag = "installations",
    params(("id" = String, Path, description = "Installation id")),
    security(("bearer" = ["installations:write"]), ("session" = ["installations:write"])),
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn uninstall(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::InstallationsWrite>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    installs::uninstall(&state.store, &state.files_root, &who.org_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A person pressed a button of an app's UI.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UiAction {
    /// Where the button is: `task-panel`, `project-card` or `settings-page`.
    point: String,
    /// The task or project shown; empty on the settings page.
    #[serde(default)]
    subject_id: String,
    /// The button's action.
    action: String,
    /// The values of the button's form, by input name (a toggle sends true or false).
    #[serde(default)]
    #[schema(value_type = Object)]
    values: serde_json::Map<String, serde_json::Value>,
}

/// What an action leads to.
#[derive(Serialize, ToSchema)]
pub struct UiActionResult {
    /// The app's message, if it has one.
    pub notice: Option<String>,
    /// The app's region after the action, rendered (and escaped) by Bazaar.
    pub html: String,
}

/// Run an action of an installed app's UI (a button on a task panel, a project card or the
/// settings page). The plugin runs with its installation's scopes; the caller needs to be able
/// to see the place (`tasks:read`, and `projects:read` for a card or `installations:write` for
/// settings), and
/// must be a person or an API key: an external app's token cannot press another app's buttons.
#[utoipa::path(post, path = "/v1/installations/{id}/actions", tag = "installations", request_body = UiAction,
    params(("id" = String, Path, description = "Installation id")),
    security(("bearer" = ["tasks:read"]), ("session" = ["tasks:read"])),
    responses((status = 200, body = UiActionResult), (status = "4XX", body = ErrorBody)))]
pub async fn act(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::TasksRead>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UiAction>,
) -> Result<Json<UiActionResult>, ApiError> {
    use crate::catalog::manifest::ExtensionPoint;
    use crate::installs::extensions;
    use crate::platform::Scope;
    if matches!(who.actor, super::auth::Actor::App { .. }) {
        return Err(ApiError::Forbidden(
            "an app's UI is pressed by people: an external app's token cannot run its actions".into(),
        ));
    }
    let point: ExtensionPoint = body.point.parse().map_err(ApiError::Invalid)?;
    let needed = match point {
        ExtensionPoint::TaskPanel => Scope::TasksRead,
        ExtensionPoint::ProjectCard => Scope::ProjectsRead,
        ExtensionPoint::SettingsPage => Scope::InstallationsWrite,
    };
    if !who.scopes.contains(needed) {
        return Err(ApiError::MissingScope(needed));
    }
    // The subject is one the caller can see in their organization.
    match point {
        ExtensionPoint::TaskPanel => {
            crate::platform::tasks::get(&state.store, &who.org_id, &body.subject_id).await?;
        }
        ExtensionPoint::ProjectCard => {
            crate::platform::projects::get(&state.store, &who.org_id, &body.subject_id).await?;
        }
        ExtensionPoint::SettingsPage => {}
    }
    if body.action.is_empty() || body.action.len() > 64 {
        return Err(ApiError::Invalid("`action` must be 1 to 64 bytes".into()));
    }
    let placed = extensions::installations_at(&state.store, &who.org_id, point)
        .await?
        .into_iter()
        .find(|p| p.installation_id == id)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no active installation {id} shows UI at {}",
                point.name()
            ))
        })?;
    let values = body
        .values
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            (k, v)
        })
        .collect();
    let runtime = state.runtime().await?;
    let acted = extensions::act(
        &state.store,
        &state.secrets,
        runtime,
        placed,
        point,
        &body.subject_id,
        body.action,
        values,
    )
    .await?;
    Ok(Json(UiActionResult {
        html: crate::html::blocks::inner(&acted.rendered, point, &body.subject_id),
        notice: acted.notice,
    }))
}
