//! Signing secrets per subscriber (an installation of an external app, or a REST hook), sealed
//! at rest. Rotation keeps the previous secret valid for a grace period: deliveries are signed
//! with both until it ends, so receivers can switch without losing a message.

use serde::Serialize;
use utoipa::ToSchema;

use super::signing;
use crate::installs::secrets::Secrets;
use crate::platform::{PlatformError, Result, format_time};
use crate::store::{Store, now_ms};

/// Who a secret belongs to.
#[derive(Debug, Clone, Copy)]
pub enum Owner<'a> {
    Installation(&'a str),
    Hook(&'a str),
}

impl Owner<'_> {
    fn table(self) -> &'static str {
        match self {
            Owner::Installation(_) => "installations",
            Owner::Hook(_) => "hooks",
        }
    }

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

type SecretRow = (Option<String>, Option<String>, Option<i64>);

/// The owner's secrets, opened. An installation made before webhooks existed gets one now.
pub async fn load(store: &Store, secrets: &Secrets, owner: Owner<'_>) -> Result<SigningKeys> {
    let sql = format!(
        "SELECT webhook_secret, webhook_secret_previous, webhook_secret_previous_until FROM {} WHERE id = $1",
        owner.table()
    );
    let row: Option<SecretRow> = sqlx::query_as(&sql)
        .bind(owner.id())
        .fetch_optional(store.reader())
        .await?;
    let (current, previous, until) = row.ok_or(PlatformError::NotFound("subscriber"))?;
    let open = |sealed: &str| {
        secrets
            .open(sealed)
            .map_err(|e| PlatformError::Internal(format!("webhook secret: {e}")))
    };
    let current = match current {
        Some(sealed) => open(&sealed)?,
        None => {
            let fresh = signing::new_secret();
            let sql = format!(
                "UPDATE {} SET webhook_secret = $1 WHERE id = $2 AND webhook_secret IS NULL",
                owner.table()
            );
            sqlx::query(&sql)
                .bind(secrets.seal(&fresh))
                .bind(owner.id())
                .execute(store.writer())
                .await?;
            return Box::pin(load(store, secrets, owner)).await;
        }
    };
    Ok(SigningKeys {
        current,
        previous: previous.as_deref().map(open).transpose()?,
        previous_until: until,
    })
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
    let sql = format!(
        "UPDATE {} SET webhook_secret = $1, webhook_secret_previous = $2, webhook_secret_previous_until = $3 WHERE id = $4",
        owner.table()
    );
    sqlx::query(&sql)
        .bind(secrets.seal(&fresh))
        .bind(secrets.seal(&old.current))
        .bind(until)
        .bind(owner.id())
        .execute(store.writer())
        .await?;
    load(store, secrets, owner).await
}
