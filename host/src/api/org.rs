//! `/v1/organization` and `/v1/members`.

use super::json::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Authorized, need};
use super::error::{ApiError, ErrorBody};
use super::extract::ApiJson;
use crate::AppState;
use crate::platform::orgs::{self, Member, Organization, Role};

/// The caller's organization.
#[utoipa::path(get, path = "/v1/organization", tag = "organization",
    security(("bearer" = ["org:read"]), ("session" = ["org:read"])),
    responses((status = 200, body = Organization), (status = "4XX", body = ErrorBody)))]
pub async fn current(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::OrgRead>,
) -> Result<Json<Organization>, ApiError> {
    Ok(Json(orgs::get(&state.store, &who.org_id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct MemberList {
    pub data: Vec<Member>,
}

/// Everyone in the organization with their role.
#[utoipa::path(get, path = "/v1/members", tag = "organization",
    security(("bearer" = ["members:read"]), ("session" = ["members:read"])),
    responses((status = 200, body = MemberList), (status = "4XX", body = ErrorBody)))]
pub async fn members(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::MembersRead>,
) -> Result<Json<MemberList>, ApiError> {
    let data = orgs::members(&state.store, &who.org_id).await?;
    Ok(Json(MemberList { data }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    email: String,
    role: Role,
    /// Needed only when no user has this email yet: creates the account.
    password: Option<String>,
}

/// Add a person to the organization.
#[utoipa::path(post, path = "/v1/members", tag = "organization", request_body = AddMember,
    security(("bearer" = ["members:write"]), ("session" = ["members:write"])),
    responses((status = 201, body = Member), (status = "4XX", body = ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::MembersWrite>,
    ApiJson(body): ApiJson<AddMember>,
) -> Result<(StatusCode, Json<Member>), ApiError> {
    if body.role == Role::Owner && who.role() != Some(Role::Owner) {
        return Err(ApiError::Forbidden("only an owner can add an owner".into()));
    }
    let member = orgs::add_member(
        &state.store,
        &who.org_id,
        &body.email,
        body.role,
        body.password.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(member)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRole {
    role: Role,
}

/// Change a member's role. Only owners touch owners; the last owner stays.
#[utoipa::path(patch, path = "/v1/members/{user_id}", tag = "organization", request_body = ChangeRole,
    params(("user_id" = String, Path, description = "User id")),
    security(("bearer" = ["members:write"]), ("session" = ["members:write"])),
    responses((status = 200, body = Member), (status = "4XX", body = ErrorBody)))]
pub async fn change_role(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::MembersWrite>,
    Path(user_id): Path<String>,
    ApiJson(body): ApiJson<ChangeRole>,
) -> Result<Json<Member>, ApiError> {
    let member = orgs::set_role(&state.store, &who.org_id, &user_id, body.role, who.role()).await?;
    Ok(Json(member))
}

/// Remove a member; their sessions in this organization end.
#[utoipa::path(delete, path = "/v1/members/{user_id}", tag = "organization",
    params(("user_id" = String, Path, description = "User id")),
    security(("bearer" = ["members:write"]), ("session" = ["members:write"])),
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::MembersWrite>,
    Path(user_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    orgs::remove_member(&state.store, &who.org_id, &user_id, who.role()).await?;
    Ok(StatusCode::NO_CONTENT)
}
