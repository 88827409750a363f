//! Inbound web triggers of an installation: `POST /hooks/in/{installation}/{trigger}`, where a
//! tool calls the plugin back. The host checks the caller with the trigger's secret (made here,
//! one per installation and trigger, sealed; the tenant pastes it into the tool) before the
//! plugin runs, counts what it accepted and refused, and runs the plugin's `on-request` under
//! the hook limits.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::Serialize;
use sha2::Sha256;
use utoipa::ToSchema;

use super::extensions;
use crate::catalog::manifest::{TriggerAuth, TriggerSpec};
use crate::platform::{PlatformError, Result, format_time};
use crate::runtime::bindings::triggers::{Answer, Inbound};
use crate::runtime::{Limits, Runtime};
use crate::secrets::Secrets;
use crate::store::{Store, now_ms};

/// A trigger as the tenant sees it: where the tool sends, how it proves itself, what arrived.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TriggerInfo {
    pub name: String,
    pub title: String,
    /// The URL to give the tool.
    pub url: String,
    /// How the caller proves itself, in words.
    pub auth: String,
    /// Requests verified and handed to the plugin.
    pub accepted: i64,
    /// Requests refused before the plugin ran (a bad or missing signature).
    pub refused: i64,
    pub last_accepted_at: Option<String>,
    pub last_refused_at: Option<String>,
    /// Why the last refused request was refused.
    pub last_refusal: Option<String>,
}

/// The trigger's secret for this installation, made on first use.
pub async fn secret(store: &Store, secrets: &Secrets, installation_id: &str, name: &str) -> Result<String> {
    let mut found = stored_secret(store, installation_id, name).await?;
    if found.is_none() {
        crate::store::query(
            "INSERT INTO installation_triggers (installation_id, name, secret, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (installation_id, name) DO NOTHING",
        )
        .bind(installation_id)
        .bind(name)
        .bind(secrets.seal(&new_secret()))
        .bind(now_ms())
        .execute(store.writer())
        .await?;
        // Another request may have made one first: the stored one is the secret.
        found = stored_secret(store, installation_id, name).await?;
    }
    let sealed = found.ok_or(PlatformError::NotFound("trigger"))?;
    secrets
        .open(&sealed)
        .map_err(|e| PlatformError::Internal(e.to_string()))
}

async fn stored_secret(store: &Store, installation_id: &str, name: &str) -> Result<Option<String>> {
    let found: Option<(String,)> = crate::store::query_as(
        "SELECT secret FROM installation_triggers WHERE installation_id = $1 AND name = $2",
    )
    .bind(installation_id)
    .bind(name)
    .fetch_optional(store.reader())
    .await?;
    Ok(found.map(|(sealed,)| sealed))
}

fn new_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("bzts_{hex}")
}

/// Replaces the trigger's secret; the old one stops working at once.
pub async fn rotate(store: &Store, secrets: &Secrets, installation_id: &str, name: &str) -> Result<String> {
    secret(store, secrets, installation_id, name).await?;
    let fresh = new_secret();
    crate::store::query(
        "UPDATE installation_triggers SET secret = $3 WHERE installation_id = $1 AND name = $2",
    )
    .bind(installation_id)
    .bind(name)
    .bind(secrets.seal(&fresh))
    .execute(store.writer())
    .await?;
    Ok(fresh)
}

/// Every trigger the app declares, with its URL at `origin` and what arrived.
pub async fn list(
    store: &Store,
    origin: &str,
    installation_id: &str,
    specs: &[TriggerSpec],
) -> Result<Vec<TriggerInfo>> {
    type Counts = (String, i64, i64, Option<i64>, Option<i64>, Option<String>);
    let rows: Vec<Counts> = crate::store::query_as(
        "SELECT name, accepted, refused, last_accepted_at, last_refused_at, last_refusal \
         FROM installation_triggers WHERE installation_id = $1",
    )
    .bind(installation_id)
    .fetch_all(store.reader())
    .await?;
    Ok(specs
        .iter()
        .map(|spec| {
            let row = rows.iter().find(|r| r.0 == spec.name);
            TriggerInfo {
                name: spec.name.clone(),
                title: spec.title.clone(),
                url: format!("{origin}/hooks/in/{installation_id}/{}", spec.name),
                auth: spec.describe_auth(),
                accepted: row.map_or(0, |r| r.1),
                refused: row.map_or(0, |r| r.2),
                last_accepted_at: row.and_then(|r| r.3).map(format_time),
                last_refused_at: row.and_then(|r| r.4).map(format_time),
                last_refusal: row.and_then(|r| r.5.clone()),
            }
        })
        .collect())
}

/// Checks that the request comes from the tool holding `secret`, as `spec.auth` says.
pub fn verify(
    spec: &TriggerSpec,
    secret: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> std::result::Result<(), String> {
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let signed = |given: &str| {
        let Some(hex) = decode_hex(given) else {
            return false;
        };
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
            return false;
        };
        mac.update(body);
        mac.verify_slice(&hex).is_ok()
    };
    match spec.auth {
        TriggerAuth::Github => {
            let given = header("x-hub-signature-256").ok_or("no X-Hub-Signature-256 header")?;
            let hex = given
                .strip_prefix("sha256=")
                .ok_or("X-Hub-Signature-256 is not sha256=...")?;
            signed(hex)
                .then_some(())
                .ok_or_else(|| "the X-Hub-Signature-256 signature does not match".into())
        }
        TriggerAuth::Pagerduty => {
            let given = header("x-pagerduty-signature").ok_or("no X-PagerDuty-Signature header")?;
            given
                .split(',')
                .filter_map(|s| s.trim().strip_prefix("v1="))
                .any(signed)
                .then_some(())
                .ok_or_else(|| "no X-PagerDuty-Signature signature matches".into())
        }
        TriggerAuth::SharedSecret => {
            let name = spec.secret_header();
            let given = header(&name).ok_or_else(|| format!("no {name} header"))?;
            // Compared as MACs of both values: constant time, whatever their lengths.
            let mac = |value: &str| {
                Hmac::<Sha256>::new_from_slice(b"bazaar-trigger").map(|mut mac| {
                    mac.update(value.as_bytes());
                    mac
                })
            };
            let refused = || format!("the {name} header does not hold the secret");
            let expected = mac(secret).map_err(|_| refused())?.finalize().into_bytes();
            mac(given)
                .map_err(|_| refused())?
                .verify_slice(&expected)
                .map_err(|_| refused())
        }
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

async fn count(store: &Store, installation_id: &str, name: &str, refusal: Option<&str>) -> Result<()> {
    let sql = match refusal {
        None => {
            "UPDATE installation_triggers SET accepted = accepted + 1, last_accepted_at = $3 \
                 WHERE installation_id = $1 AND name = $2"
        }
        Some(_) => {
            "UPDATE installation_triggers SET refused = refused + 1, last_refused_at = $3, last_refusal = $4 \
                    WHERE installation_id = $1 AND name = $2"
        }
    };
    let mut query = crate::store::query(sql)
        .bind(installation_id)
        .bind(name)
        .bind(now_ms());
    if let Some(reason) = refusal {
        query = query.bind(reason);
    }
    query.execute(store.writer()).await?;
    Ok(())
}

/// What became of one inbound request.
pub enum Handled {
    /// No such installation or trigger (or the installation is paused): `404`.
    Unknown,
    /// The caller could not prove itself: `401`, and the plugin did not run.
    Refused(String),
    /// The plugin's answer.
    Answered(Answer),
    /// The plugin failed or broke its limits: `502`; the journal says what happened.
    Failed(String),
    /// Verified, but past the trigger's rate limit: `429` with `Retry-After`; the plugin did
    /// not run, and the refusal is counted.
    Throttled { retry_after: u64 },
}

/// Checks and runs one inbound `request` (its `trigger` names the manifest's trigger) for
/// installation `installation_id`. A verified request runs only if `admit` lets it (the
/// trigger's rate limit: `Err(seconds)` to wait).
#[tracing::instrument(skip_all, fields(installation = installation_id, trigger = %request.trigger))]
pub async fn handle(
    store: &Store,
    secrets: &Secrets,
    runtime: &Runtime,
    installation_id: &str,
    mut request: Inbound,
    admit: impl FnOnce(&str) -> std::result::Result<(), u64>,
) -> Result<Handled> {
    let name = request.trigger.clone();
    let name = name.as_str();
    let runnable = match super::load_for_run(store, secrets, installation_id).await {
        Ok(runnable) => runnable,
        Err(PlatformError::NotFound(_) | PlatformError::Conflict(_)) => return Ok(Handled::Unknown),
        Err(e) => return Err(e),
    };
    let Some(spec) = runnable.triggers.iter().find(|t| t.name == name).cloned() else {
        return Ok(Handled::Unknown);
    };
    let secret = secret(store, secrets, installation_id, name).await?;
    if let Err(reason) = verify(&spec, &secret, &request.headers, &request.body) {
        tracing::info!(%reason, "inbound trigger refused");
        count(store, installation_id, name, Some(&reason)).await?;
        return Ok(Handled::Refused(reason));
    }
    if let Err(retry_after) = admit(name) {
        let reason =
            format!("too many requests: this trigger runs at most its rate limit; retry in {retry_after} s");
        count(store, installation_id, name, Some(&reason)).await?;
        return Ok(Handled::Throttled { retry_after });
    }
    count(store, installation_id, name, None).await?;
    let prepared = extensions::prepared(store, runtime, &runnable.component_sha256).await?;
    request
        .headers
        .retain(|(k, _)| k != "cookie" && k != "authorization");
    let (report, answer) = runtime
        .on_request(&prepared, Arc::new(runnable.installation), Limits::HOOK, request)
        .await;
    Ok(match answer {
        Some(answer) => Handled::Answered(answer),
        None => Handled::Failed(report.message),
    })
}

/// Deletes every trigger of an uninstalled installation.
pub async fn forget(
    conn: &mut crate::store::Conn,
    installation_id: &str,
) -> std::result::Result<(), crate::store::Error> {
    crate::store::query("DELETE FROM installation_triggers WHERE installation_id = $1")
        .bind(installation_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(auth: TriggerAuth) -> TriggerSpec {
        TriggerSpec {
            name: "events".into(),
            title: "Events".into(),
            auth,
            header: None,
        }
    }

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn github_signatures_are_checked_over_the_exact_body() {
        let body = br#"{"action":"closed"}"#;
        let good = format!("sha256={}", sign("s3cret", body));
        let github = spec(TriggerAuth::Github);
        assert!(
            verify(
                &github,
                "s3cret",
                &headers(&[("x-hub-signature-256", &good)]),
                body
            )
            .is_ok()
        );
        assert!(
            verify(
                &github,
                "other",
                &headers(&[("x-hub-signature-256", &good)]),
                body
            )
            .is_err()
        );
        assert!(
            verify(
                &github,
                "s3cret",
                &headers(&[("x-hub-signature-256", &good)]),
                b"{}"
            )
            .is_err()
        );
        assert!(
            verify(&github, "s3cret", &[], body)
                .unwrap_err()
                .contains("no X-Hub-Signature-256")
        );
        let sha1 = format!("sha1={}", sign("s3cret", body));
        assert!(
            verify(
                &github,
                "s3cret",
                &headers(&[("x-hub-signature-256", &sha1)]),
                body
            )
            .is_err()
        );
    }

    #[test]
    fn pagerduty_accepts_any_of_its_rotating_signatures_and_shared_secrets_must_match() {
        let body = b"{}";
        let both = format!("v1={}, v1={}", sign("old", body), sign("new", body));
        let pd = spec(TriggerAuth::Pagerduty);
        assert!(verify(&pd, "new", &headers(&[("x-pagerduty-signature", &both)]), body).is_ok());
        assert!(verify(&pd, "gone", &headers(&[("x-pagerduty-signature", &both)]), body).is_err());
        let shared = spec(TriggerAuth::SharedSecret);
        assert!(
            verify(
                &shared,
                "bzts_1",
                &headers(&[("x-bazaar-secret", "bzts_1")]),
                body
            )
            .is_ok()
        );
        assert!(
            verify(
                &shared,
                "bzts_1",
                &headers(&[("x-bazaar-secret", "bzts_12")]),
                body
            )
            .is_err()
        );
        assert!(verify(&shared, "bzts_1", &[], body).is_err());
    }
}
