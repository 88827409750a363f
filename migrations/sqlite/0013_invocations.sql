-- The invocation journal (runtime::journal): every plugin call on the server (delivery, hook,
-- UI render or action, web trigger), successful or not, with its outcome class, timings and
-- the plugin's own log lines, newest 500 per installation within the delivery retention. It
-- replaces the app log, which kept failed in-request calls only.
DROP TABLE app_log;
CREATE TABLE invocations (
    id                 TEXT PRIMARY KEY,
    org_id             TEXT NOT NULL,
    installation_id    TEXT NOT NULL,
    app_id             TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    call               TEXT NOT NULL,
    event_id           TEXT,
    outcome            TEXT NOT NULL,
    message            TEXT NOT NULL,
    fuel_used          BIGINT NOT NULL,
    memory_peak_bytes  BIGINT NOT NULL,
    duration_us        BIGINT NOT NULL,
    log                TEXT NOT NULL,
    recording_id       TEXT
);
CREATE INDEX invocations_by_installation ON invocations (installation_id, created_at);
CREATE INDEX invocations_by_app ON invocations (app_id, created_at);
CREATE INDEX invocations_by_event ON invocations (event_id);
