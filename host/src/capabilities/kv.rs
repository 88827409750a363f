//! `bazaar:platform/kv` (scope `storage`): a key-value store private to the installation, with a
//! size quota. The table is owned here; uninstalling deletes the installation's rows.

use super::answer;
use crate::policy::Interface;
use crate::runtime::bindings::Error;
use crate::runtime::bindings::bazaar::platform::kv::Host;
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

fn db(e: sqlx::Error) -> Error {
    crate::platform::PlatformError::from(e).into()
}

/// Deletes everything an installation stored (on uninstall, in its transaction).
pub async fn delete_installation_data<'c, E>(conn: E, installation_id: &str) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query("DELETE FROM plugin_kv WHERE installation_id = $1")
        .bind(installation_id)
        .execute(conn)
        .await?;
    Ok(())
}

impl Host for PluginState {
    #[tracing::instrument(name = "host_call", skip_all, fields(interface = "kv", function = "get", installation = %self.installation.id, outcome = tracing::field::Empty))]
    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        if let Err(e) = self.enter(Interface::Kv).and_then(|()| check_key(&key)) {
            return answer(Err(e));
        }
        let row: Result<Option<(Vec<u8>,)>, _> =
            sqlx::query_as("SELECT value FROM plugin_kv WHERE installation_id = $1 AND key = $2")
                .bind(&self.installation.id)
                .bind(&key)
                .fetch_optional(self.store().reader())
                .await;
        answer(row.map(|r| r.map(|(v,)| v)).map_err(db))
    }

    #[tracing::instrument(name = "host_call", skip_all, fields(interface = "kv", function = "set", installation = %self.installation.id, outcome = tracing::field::Empty))]
    async fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), Error>> {
        if let Err(e) = self.enter(Interface::Kv).and_then(|()| check_key(&key)) {
            return answer(Err(e));
        }
        if value.len() > MAX_VALUE_BYTES {
            return answer(Err(Error::LimitExceeded(format!(
                "a value may be at most {MAX_VALUE_BYTES} bytes"
            ))));
        }
        let quota = self.limits.kv_quota_bytes;
        let store = self.store().clone();
        let installation = self.installation.id.clone();
        let result = async {
            let mut tx = store.writer().begin().await?;
            let (used,): (i64,) = sqlx::query_as(
                "SELECT COALESCE(SUM(LENGTH(key) + LENGTH(value)), 0) FROM plugin_kv \
                 WHERE installation_id = $1 AND key <> $2",
            )
            .bind(&installation)
            .bind(&key)
            .fetch_one(&mut *tx)
            .await?;
            let after = used as u64 + (key.len() + value.len()) as u64;
            if after > quota {
                return Ok(Err(Error::LimitExceeded(format!(
                    "the installation's storage quota of {quota} bytes would be exceeded"
                ))));
            }
            sqlx::query(
                "INSERT INTO plugin_kv (installation_id, key, value, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (installation_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            )
            .bind(&installation)
            .bind(&key)
            .bind(value)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(Ok(()))
        }
        .await;
        answer(result.unwrap_or_else(|e| Err(db(e))))
    }

    #[tracing::instrument(name = "host_call", skip_all, fields(interface = "kv", function = "delete", installation = %self.installation.id, outcome = tracing::field::Empty))]
    async fn delete(&mut self, key: String) -> wasmtime::Result<Result<(), Error>> {
        if let Err(e) = self.enter(Interface::Kv).and_then(|()| check_key(&key)) {
            return answer(Err(e));
        }
        let result = sqlx::query("DELETE FROM plugin_kv WHERE installation_id = $1 AND key = $2")
            .bind(&self.installation.id)
            .bind(&key)
            .execute(self.store().writer())
            .await;
        answer(result.map(|_| ()).map_err(db))
    }

    #[tracing::instrument(name = "host_call", skip_all, fields(interface = "kv", function = "list_keys", installation = %self.installation.id, outcome = tracing::field::Empty))]
    async fn list_keys(
        &mut self,
        prefix: String,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        if let Err(e) = self.enter(Interface::Kv) {
            return answer(Err(e));
        }
        let limit = i64::from(limit.clamp(1, 1000));
        let rows: Result<Vec<(String,)>, _> = sqlx::query_as(
            "SELECT key FROM plugin_kv WHERE installation_id = $1 AND substr(key, 1, $2) = $3 ORDER BY key LIMIT $4",
        )
        .bind(&self.installation.id)
        .bind(prefix.chars().count() as i64)
        .bind(&prefix)
        .bind(limit)
        .fetch_all(self.store().reader())
        .await;
        answer(rows.map(|r| r.into_iter().map(|(k,)| k).collect()).map_err(db))
    }
}
