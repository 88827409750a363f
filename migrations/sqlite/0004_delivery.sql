-- Event delivery: fan-out of the outbox into deliveries, their attempts, REST hook subscriptions,
-- signing secrets, subscriber health, and hourly usage for analytics.

-- Events written before delivery existed are history, not work.
ALTER TABLE events ADD COLUMN dispatched_at BIGINT;
UPDATE events SET dispatched_at = occurred_at;
CREATE INDEX events_undispatched ON events(seq) WHERE dispatched_at IS NULL;

ALTER TABLE installations ADD COLUMN webhook_secret TEXT;
ALTER TABLE installations ADD COLUMN webhook_secret_previous TEXT;
ALTER TABLE installations ADD COLUMN webhook_secret_previous_until BIGINT;
ALTER TABLE installations ADD COLUMN webhook_disabled_reason TEXT;
ALTER TABLE installations ADD COLUMN failing_since BIGINT;

-- Zapier-style REST hooks: a URL subscribed to one event kind by an API key or an installation.
CREATE TABLE hooks (
    id                              TEXT PRIMARY KEY,
    org_id                          TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    api_key_id                      TEXT REFERENCES api_keys(id) ON DELETE CASCADE,
    installation_id                 TEXT REFERENCES installations(id) ON DELETE CASCADE,
    event_kind                      TEXT NOT NULL,
    target_url                      TEXT NOT NULL,
    status                          TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    disabled_reason                 TEXT,
    failing_since                   BIGINT,
    webhook_secret                  TEXT NOT NULL,
    webhook_secret_previous         TEXT,
    webhook_secret_previous_until   BIGINT,
    -- The last event before the subscription: it receives the events after this one.
    since_seq                       BIGINT NOT NULL,
    created_at                      BIGINT NOT NULL
);
CREATE INDEX hooks_org ON hooks(org_id, event_kind);

-- One row per (event, subscriber, target). `subscriber_id` is the installation or the hook.
CREATE TABLE deliveries (
    id                TEXT PRIMARY KEY,
    event_id          TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    org_id            TEXT NOT NULL,
    subscriber_id     TEXT NOT NULL,
    installation_id   TEXT REFERENCES installations(id) ON DELETE CASCADE,
    hook_id           TEXT REFERENCES hooks(id) ON DELETE CASCADE,
    app_id            TEXT,
    target            TEXT NOT NULL CHECK (target IN ('plugin', 'webhook')),
    state             TEXT NOT NULL CHECK (state IN ('pending', 'in_flight', 'succeeded', 'dead')),
    attempts          BIGINT NOT NULL,
    retry_step        BIGINT NOT NULL,
    next_attempt_at   BIGINT NOT NULL,
    lease_owner       TEXT,
    lease_until       BIGINT,
    last_outcome      TEXT,
    last_message      TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (event_id, subscriber_id, target)
);
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_leased ON deliveries(lease_until) WHERE state = 'in_flight';
CREATE INDEX deliveries_in_flight ON deliveries(subscriber_id) WHERE state = 'in_flight';
CREATE INDEX deliveries_subscriber ON deliveries(subscriber_id, id);
CREATE INDEX deliveries_org ON deliveries(org_id, id);
CREATE INDEX deliveries_finished ON deliveries(updated_at) WHERE state IN ('succeeded', 'dead');

CREATE TABLE delivery_attempts (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id       TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    number            BIGINT NOT NULL,
    node_id           TEXT NOT NULL,
    started_at        BIGINT NOT NULL,
    duration_us       BIGINT NOT NULL,
    outcome           TEXT NOT NULL,
    message           TEXT NOT NULL,
    fuel_used         BIGINT,
    status_code       BIGINT,
    response_excerpt  TEXT,
    next_attempt_at   BIGINT
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts(delivery_id, number);

-- Hourly usage per subscriber and target; kept after uninstall for the developer's analytics.
CREATE TABLE usage_hourly (
    subscriber_id  TEXT NOT NULL,
    hour           BIGINT NOT NULL,
    target         TEXT NOT NULL,
    org_id         TEXT NOT NULL,
    app_id         TEXT,
    invocations    BIGINT NOT NULL,
    successes      BIGINT NOT NULL,
    fuel_used      BIGINT NOT NULL,
    failures       TEXT NOT NULL,
    durations      TEXT NOT NULL,
    PRIMARY KEY (subscriber_id, hour, target)
);
CREATE INDEX usage_app ON usage_hourly(app_id, hour);
