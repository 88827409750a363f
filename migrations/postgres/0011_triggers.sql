-- Inbound web triggers: per installation and trigger, the secret the tool signs with (sealed)
-- and what arrived: requests verified and run, and requests refused before the plugin ran.
CREATE TABLE installation_triggers (
    installation_id   TEXT NOT NULL,
    name              TEXT NOT NULL,
    secret            TEXT NOT NULL,
    accepted          BIGINT NOT NULL DEFAULT 0,
    refused           BIGINT NOT NULL DEFAULT 0,
    last_accepted_at  BIGINT,
    last_refused_at   BIGINT,
    last_refusal      TEXT,
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (installation_id, name)
);
