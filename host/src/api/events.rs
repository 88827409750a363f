//! `/v1/events`: the organization's event log, read from the outbox.

use super::json::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::EventList;
use super::auth::{Authorized, need};
use super::error::{ApiError, ErrorBody};
use super::extract::ApiQuery;
use crate::AppState;
use crate::platform::outbox::{self, kinds};
use crate::platform::page::PageRequest;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListEvents {
    /// Only events of this kind, e.g. `task.completed`.
    kind: Option<String>,
    /// Page size, 1 to 200 (default 50).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Only events after this RFC 3339 time.
    created_after: Option<String>,
}

/// List the organization's events, newest first.
#[utoipa::path(get, path = "/v1/events", tag = "events", params(ListEvents),
    security(("bearer" = ["events:read"]), ("session" = ["events:read"])),
    responses((status = 200, body = EventList), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Authorized(who, ..): Authorized<need::EventsRead>,
    ApiQuery(q): ApiQuery<ListEvents>,
) -> Result<Json<EventList>, ApiError> {
    if let Some(kind) = &q.kind
        && !kinds::ALL.contains(&kind.as_str())
    {
        return Err(ApiError::Invalid(format!(
            "unknown event kind `{kind}`; known kinds are: {}",
            kinds::ALL.join(", ")
        )));
    }
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), q.created_after.as_deref())?;
    let page = outbox::list(&state.store, &who.org_id, q.kind.as_deref(), &page).await?;
    Ok(Json(page.into()))
}
