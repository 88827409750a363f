-- OAuth 2.0 for external apps: client secrets, one-time authorization codes, access and
-- refresh tokens (stored only as hashes), and each organization's plan for rate limits.

CREATE TABLE oauth_client_secrets (
    app_id       TEXT PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
    secret_hash  TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE oauth_codes (
    code_hash        TEXT PRIMARY KEY,
    family_id        TEXT NOT NULL,
    app_id           TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    org_id           TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id          TEXT REFERENCES users(id) ON DELETE CASCADE,
    installation_id  TEXT NOT NULL REFERENCES installations(id) ON DELETE CASCADE,
    redirect_uri     TEXT NOT NULL,
    scopes           TEXT NOT NULL,
    code_challenge   TEXT NOT NULL,
    expires_at       BIGINT NOT NULL,
    used_at          BIGINT,
    created_at       BIGINT NOT NULL
);

-- Every token of one authorization shares a family: reuse of a spent refresh token or code
-- revokes the whole family.
CREATE TABLE oauth_tokens (
    id               TEXT PRIMARY KEY,
    token_hash       TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    family_id        TEXT NOT NULL,
    app_id           TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    org_id           TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    installation_id  TEXT NOT NULL REFERENCES installations(id) ON DELETE CASCADE,
    user_id          TEXT REFERENCES users(id) ON DELETE SET NULL,
    scopes           TEXT NOT NULL,
    expires_at       BIGINT NOT NULL,
    used_at          BIGINT,
    revoked_at       BIGINT,
    created_at       BIGINT NOT NULL,
    -- The refresh token this one replaced (rotation).
    parent_hash      TEXT
);
CREATE INDEX oauth_tokens_family ON oauth_tokens(family_id);
CREATE INDEX oauth_tokens_installation ON oauth_tokens(installation_id);

-- Rotation in one statement: inserting the new refresh token spends the one it replaces.
-- (PostgreSQL does the same with a writable CTE.)
CREATE TRIGGER oauth_tokens_rotate AFTER INSERT ON oauth_tokens WHEN NEW.parent_hash IS NOT NULL
BEGIN
    UPDATE oauth_tokens SET used_at = NEW.created_at WHERE token_hash = NEW.parent_hash;
END;

ALTER TABLE organizations ADD COLUMN plan TEXT NOT NULL DEFAULT 'standard';
