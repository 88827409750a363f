//! `bazaar:platform/projects` (scope `projects:read`) and `projects-write` (`projects:write`):
//! the organization's projects, through the same rules as the API.

use super::{HostResult, answer};
use crate::platform::page::PageRequest;
use crate::platform::projects::{self, StatusFilter};
use crate::policy::Interface;
use crate::runtime::bindings::Project;
use crate::runtime::bindings::platform::{projects as read, projects_write as write};
use crate::runtime::state::PluginState;

pub(crate) fn to_wit(p: projects::Project) -> Project {
    Project {
        id: p.id,
        name: p.name,
        description: p.description,
        status: p.status,
        created_at: p.created_at,
    }
}

impl read::Host for PluginState {
    #[tracing::instrument(name = "host_call", skip_all, parent = self.guest_spans.parent(), fields(interface = "projects", function = "get", outcome = tracing::field::Empty))]
    async fn get(&mut self, id: String) -> HostResult<Project> {
        answer(
            self.call(Interface::Projects, "get", async |s| {
                Ok(to_wit(projects::get(s.store(), s.org_id(), &id).await?))
            })
            .await,
        )
    }

    #[tracing::instrument(name = "host_call", skip_all, parent = self.guest_spans.parent(), fields(interface = "projects", function = "list_active", outcome = tracing::field::Empty))]
    async fn list_active(&mut self, limit: u32) -> HostResult<Vec<Project>> {
        answer(
            self.call(Interface::Projects, "list_active", async |s| {
                let page = PageRequest::new(Some(limit.clamp(1, 100)), None, None)?;
                let list = projects::list(s.store(), s.org_id(), StatusFilter::Active, &page).await?;
                Ok(list.items.into_iter().map(to_wit).collect())
            })
            .await,
        )
    }
}

impl write::Host for PluginState {
    #[tracing::instrument(name = "host_call", skip_all, parent = self.guest_spans.parent(), fields(interface = "projects-write", function = "create", outcome = tracing::field::Empty))]
    async fn create(&mut self, name: String, description: String) -> HostResult<Project> {
        answer(
            self.call(Interface::ProjectsWrite, "create", async |s| {
                Ok(to_wit(
                    projects::create(s.store(), s.org_id(), &name, &description).await?,
                ))
            })
            .await,
        )
    }
}
