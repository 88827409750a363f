-- Each installation's private key-value store (the `kv` capability, scope `storage`).
CREATE TABLE plugin_kv (
    installation_id  TEXT NOT NULL,
    key              TEXT NOT NULL,
    value            BYTEA NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (installation_id, key)
);
