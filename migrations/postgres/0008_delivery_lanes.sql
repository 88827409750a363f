-- One row per subscriber that ever had a delivery (events::queue). On PostgreSQL a claim locks
-- the lanes of the subscribers it serves (FOR UPDATE SKIP LOCKED), so nodes claim different
-- subscribers side by side instead of taking turns under one lock. Rows are never deleted:
-- they are as many as subscribers, and a lane deleted while fan-out inserts into it would
-- leave deliveries that no claim finds.
CREATE TABLE delivery_lanes (
    subscriber_id   TEXT PRIMARY KEY
);
INSERT INTO delivery_lanes (subscriber_id) SELECT DISTINCT subscriber_id FROM deliveries;

-- Claims read due deliveries in (next_attempt_at, id) order and stop at their limit: an index
-- in that order lets them stop early instead of sorting every pending delivery.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries(next_attempt_at, id) WHERE state = 'pending';
