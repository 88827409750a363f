//! What a plugin's `Store` holds for one invocation: WASI with no ambient authority, the memory
//! cap, the grants, and budgets for host calls.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::Error;
use super::limits::{Limits, MemoryCap};
use super::output::PluginLog;
use super::recording::Source;
use crate::platform::ScopeSet;
use crate::policy::Interface;
use crate::policy::connections::ConnectionSpec;
use crate::policy::egress::HttpPolicy;
use crate::secrets::Secrets;
use crate::store::Store;

/// The installation a call runs for: who, with what grants and configuration.
#[derive(Debug, Clone)]
pub struct Installation {
    pub id: String,
    /// The installed app.
    pub app_id: String,
    pub org_id: String,
    pub grants: ScopeSet,
    pub config: BTreeMap<String, String>,
    /// Hosts the app's manifest declares for outbound HTTP (`api.example.com`, `*.example.com`).
    pub allowed_hosts: Vec<String>,
    /// Connections the manifest declares; their credentials stay in the host.
    pub connections: Vec<ConnectionSpec>,
    /// Keys of `config` whose values are secret: recordings hold placeholders for them.
    pub secret_config: Vec<String>,
}

/// What the host functions reach, shared by every call.
#[derive(Debug, Clone)]
pub struct HostServices {
    pub store: Store,
    /// Folder holding one sub-folder per installation for the `files:*` scopes.
    pub files_root: PathBuf,
    /// Lets outbound HTTP reach private addresses: for local development and tests only.
    pub allow_private_network: bool,
    /// Opens the sealed credentials of connections.
    pub secrets: Arc<Secrets>,
    /// This server's public origin: OAuth clients' callback, for token refreshes.
    pub issuer: Arc<str>,
    /// Where every call is journaled, on a server (none for local runs and benchmarks).
    pub journal: Option<Arc<super::journal::Journal>>,
}

/// The data of one invocation's `Store`.
pub struct PluginState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) memory: MemoryCap,
    pub(crate) installation: Arc<Installation>,
    pub(crate) services: Arc<HostServices>,
    pub(crate) http: HttpPolicy,
    pub(crate) log: PluginLog,
    pub(crate) limits: Limits,
    host_calls: u32,
    pub(crate) http_requests: u32,
    /// The first per-invocation limit the guest ran into (host calls, HTTP requests): the
    /// invocation is `limit_exceeded` whatever the guest returns after it.
    pub(crate) limit_hit: Option<String>,
    /// Where host calls' answers go (a recording) or come from (a replay).
    pub(crate) tape: Option<Source>,
    /// The plugin's own spans (`bazaar:platform/trace`).
    pub(crate) guest_spans: super::spans::GuestSpans,
    /// The longest `Retry-After` of a 429 or 503 answer the plugin received.
    pub(crate) retry_after: Option<std::time::Duration>,
}

impl PluginState {
    pub(crate) fn new(
        wasi: WasiCtx,
        installation: Arc<Installation>,
        services: Arc<HostServices>,
        log: PluginLog,
        limits: Limits,
    ) -> Self {
        let http = HttpPolicy::new(installation.allowed_hosts.clone(), services.allow_private_network);
        PluginState {
            wasi,
            table: ResourceTable::new(),
            memory: MemoryCap {
                max_bytes: limits.memory_bytes,
                hit: false,
                peak: 0,
            },
            installation,
            services,
            http,
            log,
            limits,
            host_calls: 0,
            http_requests: 0,
            limit_hit: None,
            tape: None,
            guest_spans: Default::default(),
            retry_after: None,
        }
    }

    /// One host call: its grant and budget checked (always, so that a replay counts the same),
    /// then [`Self::taped`].
    pub(crate) async fn call<T, F>(
        &mut self,
        interface: Interface,
        function: &'static str,
        work: F,
    ) -> Result<T, Error>
    where
        T: Serialize + DeserializeOwned,
        F: AsyncFnOnce(&mut Self) -> Result<T, Error>,
    {
        self.enter(interface)?;
        self.taped(interface, function, work).await
    }

    /// A host call's work, or its recorded answer when replaying; its answer is recorded when
    /// recording. A replay does no work: nothing is read, written or sent.
    pub(crate) async fn taped<T, F>(
        &mut self,
        interface: Interface,
        function: &'static str,
        work: F,
    ) -> Result<T, Error>
    where
        T: Serialize + DeserializeOwned,
        F: AsyncFnOnce(&mut Self) -> Result<T, Error>,
    {
        if let Some(Source::Replay(player)) = &self.tape {
            return player.host_call(interface.name(), function);
        }
        let answer = work(self).await;
        if let Some(Source::Record(recorder)) = &self.tape {
            recorder.host_call(interface.name(), function, &answer, false);
        }
        answer
    }

    /// Every host function that reaches the platform starts here: the grant is checked again
    /// (the import check should already have refused the component) and the call is counted.
    pub(crate) fn enter(&mut self, interface: Interface) -> Result<(), Error> {
        if let Some(scope) = interface.scope()
            && !self.installation.grants.contains(scope)
        {
            return Err(Error::Forbidden(format!(
                "this installation was not granted the `{scope}` scope"
            )));
        }
        self.host_calls = self.host_calls.saturating_add(1);
        if self.host_calls > self.limits.max_host_calls {
            return Err(self.limit_hit(format!(
                "more than {} host calls in one invocation",
                self.limits.max_host_calls
            )));
        }
        Ok(())
    }

    /// Records that an invocation limit was hit and returns the error the guest sees.
    pub(crate) fn limit_hit(&mut self, message: String) -> Error {
        if self.limit_hit.is_none() {
            self.limit_hit = Some(message.clone());
        }
        Error::LimitExceeded(message)
    }

    pub(crate) fn store(&self) -> &Store {
        &self.services.store
    }

    pub(crate) fn org_id(&self) -> &str {
        &self.installation.org_id
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl super::bindings::platform::types::Host for PluginState {}

#[cfg(test)]
mod tests {
    use super::*;

    async fn plugin_state(grants: ScopeSet, limits: Limits) -> (PluginState, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_data_dir(dir.path()).await.unwrap();
        let installation = Arc::new(Installation {
            id: "ins_test".into(),
            app_id: "app_test".into(),
            org_id: "org_test".into(),
            grants,
            config: BTreeMap::new(),
            allowed_hosts: Vec::new(),
            connections: Vec::new(),
            secret_config: Vec::new(),
        });
        let services = Arc::new(HostServices {
            store,
            files_root: dir.path().join("files"),
            allow_private_network: false,
            secrets: Arc::new(Secrets::load(None, dir.path()).unwrap()),
            issuer: "http://127.0.0.1".into(),
            journal: None,
        });
        let wasi = wasmtime_wasi::WasiCtxBuilder::new().build();
        (
            PluginState::new(wasi, installation, services, PluginLog::new(1024, 100), limits),
            dir,
        )
    }

    /// Even if a component got past the import check, a host function refuses a call whose
    /// scope was not granted.
    #[tokio::test]
    async fn host_functions_check_the_grant_again() {
        let (mut state, _dir) = plugin_state(ScopeSet::default(), Limits::EVENT).await;
        assert!(matches!(state.enter(Interface::Kv), Err(Error::Forbidden(m)) if m.contains("storage")));
        assert!(
            state.enter(Interface::Config).is_ok(),
            "scope-free interfaces stay available"
        );
        let granted: ScopeSet = [crate::platform::Scope::Storage].into_iter().collect();
        let (mut state, _dir) = plugin_state(granted, Limits::EVENT).await;
        assert!(state.enter(Interface::Kv).is_ok());
        assert!(matches!(
            state.enter(Interface::TasksWrite),
            Err(Error::Forbidden(_))
        ));
    }

    #[tokio::test]
    async fn host_calls_are_counted_against_the_budget() {
        let (mut state, _dir) = plugin_state(
            ScopeSet::default(),
            Limits {
                max_host_calls: 3,
                ..Limits::EVENT
            },
        )
        .await;
        for _ in 0..3 {
            assert!(state.enter(Interface::Config).is_ok());
        }
        assert_eq!(state.limit_hit, None);
        assert!(matches!(
            state.enter(Interface::Config),
            Err(Error::LimitExceeded(_))
        ));
        assert!(state.limit_hit.is_some(), "the invocation remembers the limit");
    }
}
