-- Declined renewals (billing): how many in a row, when the next try is due, and why a
-- subscription ended (unpaid after three declines, a day apart).
ALTER TABLE subscriptions ADD COLUMN declines BIGINT NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN retry_at BIGINT;
ALTER TABLE subscriptions ADD COLUMN ended_reason TEXT;
