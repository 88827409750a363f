//! `bazaar:platform/projects` (scope `projects:read`) and `projects-write` (`projects:write`):
//! the organization's projects, through the same rules as the API.

use super::answer;
use crate::platform::PlatformError;
use crate::platform::page::PageRequest;
use crate::platform::projects::{self, StatusFilter};
use crate::policy::Interface;
use crate::runtime::bindings::bazaar::platform::{projects as read, projects_write as write};
use crate::runtime::bindings::{Error, Project};
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

fn done<T>(result: Result<T, PlatformError>) -> wasmtime::Result<Result<T, Error>> {
    answer(result.map_err(Error::from))
}

impl read::Host for PluginState {
    #[tracing::instrument(name = "host_call", skip_all, fields(interface = "projects", function = "get", installation = %self.installation.id, outcome = tracing::field::Empty))]
    async fn get(&mut self, id: String) -> wasmtime::Result<Result<Project, Error>> {
        if let Err(e) = self.enter(Interface::Projects) {
            return answer(Err(e));
        }
        done(projects::get(self.store(), self.org_id(), &id).await.map(to_wit))
    }

    #[tracing::instrument(name = "host_call", skip_all, fields(interface = "projects", function = "list_active", installation = %self.installation.id, outcome = tracing::field::Empty))]
    async fn list_active(&mut self, limit: u32) -> wasmtime::Result<Result<Vec<Project>, Error>> {
        if let Err(e) = self.enter(Interface::Projects) {
            return answer(Err(e));
        }
        let page = match PageRequest::new(Some(limit.clamp(1, 100)), None, None) {
            Ok(page) => page,
            Err(e) => return done(Err(e)),
        };
        let list = projects::list(self.store(), self.org_id(), StatusFilter::Active, &page).await;
        done(list.map(|p| p.items.into_iter().map(to_wit).collect()))
    }
}

impl write::Host for PluginState {
    #[tracing::instrument(name = "host_call", skip_all, fields(interface = "projects-write", function = "create", installation = %self.installation.id, outcome = tracing::field::Empty))]
    async fn create(
        &mut self,
        name: String,
        description: String,
    ) -> wasmtime::Result<Result<Project, Error>> {
        if let Err(e) = self.enter(Interface::ProjectsWrite) {
            return answer(Err(e));
        }
        done(
            projects::create(self.store(), self.org_id(), &name, &description)
                .await
                .map(to_wit),
        )
    }
}
