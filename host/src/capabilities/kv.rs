//! `bazaar:platform/kv` (scope `storage`): a key-value store private to the installation, with a
//! size quota. The table is owned here; uninstalling deletes the installation's rows.

use super::{HostResult, answer};
use crate::policy::Interface;
use crate::runtime::bindings::Error;
use crate::runtime::bindings::platform::kv::Host;
use crate::runtime::state::PluginState;
use crate::store::now_ms;

const MAX_KEY_BYTES: usize = 256;
const MAX_VALUE_BYTES: usize = 64 << 10;

fn check_key(key: &str) -> Result<(), Error> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(Error::Invalid(format!(
            "a key must be 1 to {MAX_KEY_BYTES} bytes"
        )));
    }
    Ok(())
}

fn db(e: crate::store::Error) -> Error {
    crate::platform::PlatformError::from(e).into()
}

/// Deletes everything an installation stored (on uninstall, in its transaction).
pub async fn delete_installation_data<'c, E>(
    conn: E,
    installation_id: &str,
) -> Result<(), crate::store::Error>
where
    E: crate::store::IntoExecutor<'c>,
{
    crate::store::query("DELETE FROM plugin_kv WHERE installation_id = $1")
        .bind(installation_id)
        .execute(conn)
        .await?;
    Ok(())
}

impl Host for PluginState {
    #[tracing::instrument(name = "host_call", skip_all, parent = self.guest_spans.parent(), fields(interface = "kv", function = "get", outcome = tracing::field::Empty))]
    async fn get(&mut self, key: String) -> HostResult<Option<Vec<u8>>> {
        answer(
            self.call(Interface::Kv, "get", async |s| {
                check_key(&key)?;
                let row: Option<(Vec<u8>,)> = crate::store::query_as(
                    "SELECT value FROM plugin_kv WHERE installation_id = $1 AND key = $2",
                )
                .bind(&s.installation.id)
                .bind(&key)
                .fetch_optional(s.store().reader())
                .await
                .map_err(db)?;
                Ok(row.map(|(v,)| v))
            })
            .await,
        )
    }

    #[tracing::instrument(name = "host_call", skip_all, parent = self.guest_spans.parent(), fields(interface = "kv", function = "set", outcome = tracing::field::Empty))]
    async fn set(&mut self, key: String, value: Vec<u8>) -> HostResult<()> {
        answer(self.call(Interface::Kv, "set", async |s| {
            check_key(&key)?;
            if value.len() > MAX_VALUE_BYTES {
                return Err(Error::LimitExceeded(format!(
                    "a value may be at most {MAX_VALUE_BYTES} bytes"
                )));
            }
            let quota = s.limits.kv_quota_bytes;
            let mut tx = s.store().writer().begin().await.map_err(db)?;
            let (used,): (i64,) = crate::store::query_as(
                "SELECT COALESCE(SUM(LENGTH(key) + LENGTH(value)), 0) FROM plugin_kv \
                 WHERE installation_id = $1 AND key <> $2",
            )
            .bind(&s.installation.id)
            .bind(&key)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            if used as u64 + (key.len() + value.len()) as u64 > quota {
                return Err(Error::LimitExceeded(format!(
                    "the installation's storage quota of {quota} bytes would be exceeded"
                )));
            }
            crate::store::query(
                "INSERT INTO plugin_kv (installation_id, key, value, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (installation_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            )
            .bind(&s.installation.id)
            .bind(&key)
            .bind(value)
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            tx.commit().await.map_err(db)
        })
        .await)
    }

    #[tracing::instrument(name = "host_call", skip_all, parent = self.guest_spans.parent(), fields(interface = "kv", function = "delete", outcome = tracing::field::Empty))]
    async fn delete(&mut self, key: String) -> HostResult<()> {
        answer(
            self.call(Interface::Kv, "delete", async |s| {
                check_key(&key)?;
                crate::store::query("DELETE FROM plugin_kv WHERE installation_id = $1 AND key = $2")
                    .bind(&s.installation.id)
                    .bind(&key)
                    .execute(s.store().writer())
                    .await
                    .map_err(db)?;
                Ok(())
            })
            .await,
        )
    }

    #[tracing::instrument(name = "host_call", skip_all, parent = self.guest_spans.parent(), fields(interface = "kv", function = "list_keys", outcome = tracing::field::Empty))]
    async fn list_keys(&mut self, prefix: String, limit: u32) -> HostResult<Vec<String>> {
        answer(self.call(Interface::Kv, "list_keys", async |s| {
            let rows: Vec<(String,)> = crate::store::query_as(
                "SELECT key FROM plugin_kv WHERE installation_id = $1 AND substr(key, 1, $2) = $3 ORDER BY key LIMIT $4",
            )
            .bind(&s.installation.id)
            .bind(prefix.chars().count() as i64)
            .bind(&prefix)
            .bind(i64::from(limit.clamp(1, 1000)))
            .fetch_all(s.store().reader())
            .await
            .map_err(db)?;
            Ok(rows.into_iter().map(|(k,)| k).collect())
        })
        .await)
    }
}
