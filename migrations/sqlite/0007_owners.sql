-- Each table has one owner module. Delivery health (`events`) and webhook signing secrets
-- (`webhooks`) move out of the `installations` and `hooks` rows into tables of their own.

-- Subscriber health: since when a subscriber's deliveries have only failed (events::queue).
CREATE TABLE subscriber_health (
    subscriber_id   TEXT PRIMARY KEY,
    failing_since   BIGINT NOT NULL
);
INSERT INTO subscriber_health (subscriber_id, failing_since)
    SELECT id, failing_since FROM installations WHERE failing_since IS NOT NULL;
INSERT INTO subscriber_health (subscriber_id, failing_since)
    SELECT id, failing_since FROM hooks WHERE failing_since IS NOT NULL;
ALTER TABLE installations DROP COLUMN failing_since;
ALTER TABLE hooks DROP COLUMN failing_since;

-- Signing secrets of installations and REST hooks, sealed (webhooks::keys).
CREATE TABLE webhook_secrets (
    owner_id        TEXT PRIMARY KEY,
    secret          TEXT NOT NULL,
    previous        TEXT,
    previous_until  BIGINT
);
INSERT INTO webhook_secrets (owner_id, secret, previous, previous_until)
    SELECT id, webhook_secret, webhook_secret_previous, webhook_secret_previous_until
    FROM installations WHERE webhook_secret IS NOT NULL;
INSERT INTO webhook_secrets (owner_id, secret, previous, previous_until)
    SELECT id, webhook_secret, webhook_secret_previous, webhook_secret_previous_until FROM hooks;
ALTER TABLE installations DROP COLUMN webhook_secret;
ALTER TABLE installations DROP COLUMN webhook_secret_previous;
ALTER TABLE installations DROP COLUMN webhook_secret_previous_until;
ALTER TABLE hooks DROP COLUMN webhook_secret;
ALTER TABLE hooks DROP COLUMN webhook_secret_previous;
ALTER TABLE hooks DROP COLUMN webhook_secret_previous_until;

-- The delivery log names each delivery's event kind without reading the outbox.
ALTER TABLE deliveries ADD COLUMN event_kind TEXT;
UPDATE deliveries SET event_kind = (SELECT kind FROM events WHERE events.id = deliveries.event_id);

-- Reminder for readers: the trigger `oauth_tokens_rotate` (0005) is SQLite's half of refresh
-- rotation; the rule and both dialects' halves are described in host/src/oauth/grants.rs.
