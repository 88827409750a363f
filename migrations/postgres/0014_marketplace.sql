-- The public marketplace (catalog): images uploaded by developers, kept by content hash and
-- checked as real PNG, JPEG or WebP (catalog::media); which app shows which; publishers'
-- profiles with the verified mark reviewers give; developers' replies to reviews.
CREATE TABLE app_media (
    sha256        TEXT PRIMARY KEY,
    content_type  TEXT NOT NULL,
    width         BIGINT NOT NULL,
    height        BIGINT NOT NULL,
    size          BIGINT NOT NULL,
    bytes         BYTEA NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE app_images (
    app_id    TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    role      TEXT NOT NULL CHECK (role IN ('icon', 'screenshot')),
    position  BIGINT NOT NULL,
    sha256    TEXT NOT NULL REFERENCES app_media(sha256),
    PRIMARY KEY (app_id, role, position)
);

CREATE TABLE publishers (
    org_id       TEXT PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    about        TEXT NOT NULL,
    website      TEXT,
    verified_at  BIGINT,
    verified_by  TEXT REFERENCES users(id) ON DELETE SET NULL
);

ALTER TABLE ratings ADD COLUMN reply TEXT;
ALTER TABLE ratings ADD COLUMN replied_at BIGINT;
