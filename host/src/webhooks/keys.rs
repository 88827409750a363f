//! Signing secrets per subscriber (an installation of an external app, or a REST hook), sealed
//! at rest. Rotation keeps the previous secret valid for a grace period: deliveries are signed
//! with both until it ends, so receivers can switch without losing a message.

use serde::Serialize;
use utoipa::ToSchema;

use super::signing;
use crate::platform::{PlatformError, Result, format_time};
use crate::secrets::Secrets;
use crate::store::{Store, now_ms};

/// Who a secret belongs to: an installation of an external app or a REST hook, by its id.
#[derive(Debug, Clone, Copy)]
pub enum Owner<'a> {
    Installation(&'a str),
    Hook(&'a str),
}

impl Owner<'_> {
    fn id(&self) -> &str {
        match self {
            Owner::Installation(id) | Owner::Hook(id) => id,
        }
    }
}

/// The secrets that sign a subscriber's deliveries.
#[derive(Debug, Clone)]
pub struct SigningKeys {
    pub current: String,
    pub previous: Option<String>,
    /// When the previous secret stops signing (ms).
    pub previous_until: Option<i64>,
}

impl SigningKeys {
    /// The secrets to sign with at `now`: the current one, and the previous one in its grace
    /// period.
    pub fn active(&self, now: i64) -> Vec<String> {
        let mut keys = vec![self.current.clone()];
        if let (Some(previous), Some(until)) = (&self.previous, self.previous_until)
            && now < until
        {
            keys.push(previous.clone());
        }
        keys
    }
}

/// A signing secret as its owner's admin sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecretView {
    /// `whsec_...`: verify `webhook-signature` with it.
    pub secret: String,
    /// The secret it replaced, still signing until `previous_expires_at`.
    pub previous_secret: Option<String>,
    pub previous_expires_at: Option<String>,
}

impl From<SigningKeys> for SecretView {
    fn from(keys: SigningKeys) -> Self {
        let live = keys.previous_until.is_some_and(|until| now_ms() < until);
        SecretView {
            secret: keys.current,
            previous_secret: keys.previous.filter(|_| live),
            previous_expires_at: keys.previous_until.filter(|_| live).map(format_time),
        }
    }
}

type SecretRow = (String, Option<String>, Option<i64>);

/// The owner's secrets, opened; the first call for an owner makes its secret. Callers have
/// checked that the owner exists.
pub async fn load(store: &Store, secrets: &Secrets, owner: Owner<'_>) -> Result<SigningKeys> {
    let row: Option<SecretRow> = crate::store::query_as(
        "SELECT secret, previous, previous_until FROM webhook_secrets WHERE owner_id = $1",
    )
    .bind(owner.id())
    .fetch_optional(store.reader())
    .await?;
    let Some((current, previous, until)) = row else {
        create(store.writer(), secrets, owner.id()).await?;
        return Box::pin(load(store, secrets, owner)).await;
    };
    let open = |sealed: &str| {
        secrets
            .open(sealed)
            .map_err(|e| PlatformError::Internal(format!("webhook secret: {e}")))
    };
    Ok(SigningKeys {
        current: open(&current)?,
        previous: previous.as_deref().map(open).transpose()?,
        previous_until: until,
    })
}

/// Makes the owner's first secret unless it has one; returns it when made here.
pub async fn create<'c, E>(conn: E, secrets: &Secrets, owner_id: &str) -> Result<Option<String>>
where
    E: crate::store::IntoExecutor<'c>,
{
    let fresh = signing::new_secret();
    let done = crate::store::query(
        "INSERT INTO webhook_secrets (owner_id, secret) VALUES ($1, $2) ON CONFLICT (owner_id) DO NOTHING",
    )
    .bind(owner_id)
    .bind(secrets.seal(&fresh))
    .execute(conn)
    .await?;
    Ok((done.rows_affected() == 1).then_some(fresh))
}

/// Forgets the owner's secrets (its installation or hook is gone).
pub async fn forget<'c, E>(conn: E, owner_id: &str) -> Result<()>
where
    E: crate::store::IntoExecutor<'c>,
{
    crate::store::query("DELETE FROM webhook_secrets WHERE owner_id = $1")
        .bind(owner_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Replaces the current secret; the old one keeps signing for `grace_secs`.
pub async fn rotate(
    store: &Store,
    secrets: &Secrets,
    owner: Owner<'_>,
    grace_secs: u64,
) -> Result<SigningKeys> {
    let old = load(store, secrets, owner).await?;
    let fresh = signing::new_secret();
    let until = now_ms() + i64::try_from(grace_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    crate::store::query(
        "UPDATE webhook_secrets SET secret = $1, previous = $2, previous_until = $3 WHERE owner_id = $4",
    )
    .bind(secrets.seal(&fresh))
    .bind(secrets.seal(&old.current))
    .bind(until)
    .bind(owner.id())
    .execute(store.writer())
    .await?;
    load(store, secrets, owner).await
}
