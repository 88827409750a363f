-- Paid apps (billing): what each installation of a paid app pays, and every charge made, with
-- the platform's fee. Rows stay after an uninstall: they are the organizations' statements and
-- the developers' payouts.
CREATE TABLE subscriptions (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL,
    app_id            TEXT NOT NULL,
    app_name          TEXT NOT NULL,
    installation_id   TEXT NOT NULL,
    developer_org_id  TEXT NOT NULL,
    plan              TEXT NOT NULL CHECK (plan IN ('one-time', 'monthly')),
    price_cents       BIGINT NOT NULL,
    currency          TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('active', 'ending', 'ended')),
    started_at        BIGINT NOT NULL,
    period_start      BIGINT,
    period_end        BIGINT,
    ends_at           BIGINT,
    ended_at          BIGINT
);
CREATE INDEX subscriptions_org ON subscriptions (org_id, started_at);
CREATE INDEX subscriptions_due ON subscriptions (state, period_end);
CREATE INDEX subscriptions_installation ON subscriptions (installation_id);

CREATE TABLE charges (
    id                  TEXT PRIMARY KEY,
    subscription_id     TEXT NOT NULL REFERENCES subscriptions(id),
    org_id              TEXT NOT NULL,
    app_id              TEXT NOT NULL,
    app_name            TEXT NOT NULL,
    developer_org_id    TEXT NOT NULL,
    plan                TEXT NOT NULL,
    amount_cents        BIGINT NOT NULL,
    currency            TEXT NOT NULL,
    platform_fee_cents  BIGINT NOT NULL,
    description         TEXT NOT NULL,
    period_start        BIGINT NOT NULL,
    period_end          BIGINT,
    charged_at          BIGINT NOT NULL,
    provider_ref        TEXT NOT NULL
);
CREATE INDEX charges_payer ON charges (org_id, charged_at);
CREATE INDEX charges_developer ON charges (developer_org_id, charged_at);
