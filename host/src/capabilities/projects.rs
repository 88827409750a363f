//! `bazaar:platform/projects` (scope `projects:read`) and `projects-write` (`projects:write`):
//! the organization's projects, through the same rules as the API.

use crate::platform::page::PageRequest;
use crate::platform::projects::{self, StatusFilter};
use crate::platform::{PlatformError, Scope};
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
    Ok(result.map_err(Error::from))
}

impl read::Host for PluginState {
    async fn get(&mut self, id: String) -> wasmtime::Result<Result<Project, Error>> {
        if let Err(e) = self.enter(Some(Scope::ProjectsRead)) {
            return Ok(Err(e));
        }
        done(projects::get(self.store(), self.org_id(), &id).await.map(to_wit))
    }

    async fn list_active(&mut self, limit: u32) -> wasmtime::Result<Result<Vec<Project>, Error>> {
        if let Err(e) = self.enter(Some(Scope::ProjectsRead)) {
            return Ok(Err(e));
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
    async fn create(
        &mut self,
        name: String,
        description: String,
    ) -> wasmtime::Result<Result<Project, Error>> {
        if let Err(e) = self.enter(Some(Scope::ProjectsWrite)) {
            return Ok(Err(e));
        }
        done(
            projects::create(self.store(), self.org_id(), &name, &description)
                .await
                .map(to_wit),
        )
    }
}
