//! `bazaar:platform/connections` (scope `network`): requests that carry a connection's
//! credential, attached here, in the host, for the connection's hosts only.
//!
//! The guest names a connection its manifest declares; the host checks the URL against the
//! connection's hosts (and the egress rules of [`super::http`]), fetches the credential (an
//! expiring OAuth token is refreshed first), replaces any header of the same name the guest set,
//! and sends. The credential is never returned, logged or put where the guest can read it; a
//! `401` answer marks the connection for the tenant to connect again.

use super::credentials::{self, CredentialError};
use super::{HostResult, answer};
use crate::policy::Interface;
use crate::runtime::bindings::Error;
use crate::runtime::bindings::platform::connections::{ConnectionStatus, Host};
use crate::runtime::bindings::platform::http::{Request, Response};
use crate::runtime::state::PluginState;

impl Host for PluginState {
    #[tracing::instrument(name = "host_call", skip_all, parent = self.guest_spans.parent(), fields(interface = "connections", function = "send", connection = %name, outcome = tracing::field::Empty))]
    async fn send(&mut self, name: String, mut request: Request) -> HostResult<Response> {
        answer(
            async {
                self.enter(Interface::Connections)?;
                // Counted before the checks: a refused attempt is an attempt.
                self.count_http_request()?;
                let sent = self
                    .taped(Interface::Connections, "send", async |s| {
                        let spec = s
                            .installation
                            .connections
                            .iter()
                            .find(|c| c.name == name)
                            .cloned()
                            .ok_or_else(|| {
                                Error::NotFound(format!("the manifest declares no connection `{name}`"))
                            })?;
                        let host = url::Url::parse(&request.url)
                            .map_err(|e| Error::Invalid(format!("`{}` is not a URL: {e}", request.url)))?
                            .host_str()
                            .unwrap_or_default()
                            .to_owned();
                        if !spec.covers(&host) {
                            return Err(Error::Forbidden(format!(
                                "the connection `{name}` is only for {}, not {host}",
                                spec.hosts.join(", ")
                            )));
                        }
                        let services = s.services.clone();
                        let header = credentials::credential(
                            &services.store,
                            &services.secrets,
                            &services.issuer,
                            services.allow_private_network,
                            &s.installation.id,
                            &s.installation.app_id,
                            &spec,
                        )
                        .await
                        .map_err(|e| match e {
                            CredentialError::NotConnected(_) | CredentialError::Rejected { .. } => {
                                Error::Forbidden(e.to_string())
                            }
                            CredentialError::Unavailable { .. } => Error::Unavailable(e.to_string()),
                            CredentialError::Platform(e) => e.into(),
                        })?;
                        request
                            .headers
                            .retain(|(k, _)| !k.eq_ignore_ascii_case(spec.header()));
                        request.headers.push((spec.header().to_owned(), header));
                        let limits = s.limits;
                        let response = super::http::send(
                            &s.http,
                            request,
                            limits.max_http_response_bytes,
                            limits.timeout_ms,
                        )
                        .await?;
                        if response.status == 401 {
                            let problem =
                                format!("{host} answered 401 Unauthorized to the stored credential");
                            credentials::mark_rejected(&services.store, &s.installation.id, &name, &problem)
                                .await
                                .map_err(Error::from)?;
                        }
                        Ok(response)
                    })
                    .await;
                self.note_retry_after(&sent);
                sent
            }
            .await,
        )
    }

    #[tracing::instrument(name = "host_call", skip_all, parent = self.guest_spans.parent(), fields(interface = "connections", function = "status", connection = %name, outcome = tracing::field::Empty))]
    async fn status(&mut self, name: String) -> HostResult<ConnectionStatus> {
        answer(
            self.call(Interface::Connections, "status", async |s| {
                if !s.installation.connections.iter().any(|c| c.name == name) {
                    return Err(Error::NotFound(format!(
                        "the manifest declares no connection `{name}`"
                    )));
                }
                let (connected, account) =
                    credentials::status(&s.services.store, &s.installation.id, &name).await?;
                Ok(ConnectionStatus { connected, account })
            })
            .await,
        )
    }
}
