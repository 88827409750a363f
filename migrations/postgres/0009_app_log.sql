-- What went wrong when an installed plugin ran inside a request (a UI render or action, a
-- hook): the tenant sees it on the installed app's page. Only failures are kept, the newest
-- 100 per installation.
CREATE TABLE app_log (
    id               TEXT PRIMARY KEY,
    installation_id  TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    call             TEXT NOT NULL,
    outcome          TEXT NOT NULL,
    message          TEXT NOT NULL,
    log              TEXT NOT NULL
);
CREATE INDEX app_log_by_installation ON app_log (installation_id, created_at);
