-- Connections: accounts (OAuth 2.0) and keys a tenant connects for an installed plugin. The host
-- attaches the credential to the plugin's requests for the connection's hosts; the plugin never
-- sees it. Every secret here is sealed with the server's secret key.

-- The OAuth client an app's developer registered at the vendor, per connection.
CREATE TABLE app_connection_clients (
    app_id         TEXT NOT NULL,
    name           TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    client_secret  TEXT,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (app_id, name)
);

-- What a tenant connected: the key, or the access and refresh tokens.
CREATE TABLE installation_connections (
    installation_id  TEXT NOT NULL,
    name             TEXT NOT NULL,
    secret           TEXT NOT NULL,
    refresh_token    TEXT,
    expires_at       BIGINT,
    account          TEXT,
    -- `connected`, or `rejected` when the vendor refused the credential (a 401, a refused
    -- refresh): the tenant must connect again.
    state            TEXT NOT NULL,
    problem          TEXT,
    connected_at     BIGINT NOT NULL,
    refreshed_at     BIGINT,
    PRIMARY KEY (installation_id, name)
);

-- Sign-ins under way at a vendor: the state sent (its SHA-256), the PKCE verifier (sealed), who
-- started it; used once, within ten minutes.
CREATE TABLE connection_sign_ins (
    state_hash       TEXT PRIMARY KEY,
    installation_id  TEXT NOT NULL,
    name             TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    verifier         TEXT NOT NULL,
    expires_at       BIGINT NOT NULL
);
