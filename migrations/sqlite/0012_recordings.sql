-- Recordings of failed plugin calls (runtime::recordings): the input, grants, limits and every
-- answer from outside the sandbox, to replay the call (`bazaar plugin replay`). No secret is in
-- them. Kept for the delivery retention, at most 100 per installation.
CREATE TABLE recordings (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL,
    installation_id  TEXT NOT NULL,
    app_id           TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    input            TEXT NOT NULL,
    event_id         TEXT,
    outcome          TEXT NOT NULL,
    fuel_used        BIGINT NOT NULL,
    body             TEXT NOT NULL
);
CREATE INDEX recordings_by_installation ON recordings (installation_id, created_at);
CREATE INDEX recordings_by_event ON recordings (event_id);

-- Whether the tenant lets the app's developer fetch this installation's recordings.
ALTER TABLE installations ADD COLUMN share_recordings BIGINT NOT NULL DEFAULT 0;
