-- The catalog: apps, their immutable versions, components stored by content hash, ratings,
-- platform reviewers, and installations into organizations.

CREATE TABLE platform_reviewers (
    user_id     TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE apps (
    id                    TEXT PRIMARY KEY,
    slug                  TEXT NOT NULL UNIQUE,
    kind                  TEXT NOT NULL CHECK (kind IN ('plugin', 'external')),
    owner_org_id          TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    created_by            TEXT REFERENCES users(id) ON DELETE SET NULL,
    name                  TEXT NOT NULL,
    description           TEXT NOT NULL,
    long_description      TEXT NOT NULL,
    category              TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    suspended_reason      TEXT,
    published_version_id  TEXT,
    install_count         BIGINT NOT NULL,
    rating_sum            BIGINT NOT NULL,
    rating_count          BIGINT NOT NULL,
    created_at            BIGINT NOT NULL,
    published_at          BIGINT
);
CREATE INDEX apps_owner ON apps(owner_org_id, id);

-- Several nodes share components through the database; identical uploads are stored once.
CREATE TABLE components (
    sha256      TEXT PRIMARY KEY,
    bytes       BYTEA NOT NULL,
    size        BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE app_versions (
    id                TEXT PRIMARY KEY,
    app_id            TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    version           TEXT NOT NULL,
    manifest          TEXT NOT NULL,
    component_sha256  TEXT REFERENCES components(sha256),
    changelog         TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('draft', 'in_review', 'published', 'rejected', 'suspended')),
    findings          TEXT NOT NULL,
    review_note       TEXT,
    reviewed_by       TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at        BIGINT NOT NULL,
    submitted_at      BIGINT,
    reviewed_at       BIGINT,
    UNIQUE (app_id, version)
);
CREATE INDEX app_versions_state ON app_versions(state, submitted_at);

CREATE TABLE ratings (
    app_id      TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    stars       BIGINT NOT NULL CHECK (stars BETWEEN 1 AND 5),
    review      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (app_id, org_id)
);

CREATE TABLE installations (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    app_id              TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    version_id          TEXT NOT NULL REFERENCES app_versions(id),
    pending_version_id  TEXT REFERENCES app_versions(id),
    granted_scopes      TEXT NOT NULL,
    config              TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('active', 'paused')),
    created_by          TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    UNIQUE (org_id, app_id)
);
CREATE INDEX installations_app ON installations(app_id);
