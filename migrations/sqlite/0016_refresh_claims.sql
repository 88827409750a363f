-- A connection's token refresh is claimed in the database (capabilities::credentials): the node
-- whose update set the claim refreshes; the others wait for the new token instead of spending
-- the refresh token twice (vendors that rotate refresh tokens refuse the second use).
ALTER TABLE installation_connections ADD COLUMN refresh_claimed_until BIGINT;
