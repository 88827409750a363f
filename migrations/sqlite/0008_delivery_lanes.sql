-- One row per subscriber that ever had a delivery (events::queue). On PostgreSQL a claim locks
-- the lanes of the subscribers it serves (FOR UPDATE SKIP LOCKED), so nodes claim different
-- subscribers side by side instead of taking turns under one lock. Rows are never deleted:
-- they are as many as subscribers, and a lane deleted while fan-out inserts into it would
-- leave deliveries that no claim finds.
CREATE TABLE delivery_lanes (
    subscriber_id   TEXT PRIMARY KEY
);
INSERT INTO delivery_lanes (subscriber_id) SELECT DISTINCT subscriber_id FROM deliveries;
