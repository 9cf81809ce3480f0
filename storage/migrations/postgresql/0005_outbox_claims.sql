-- PostgreSQL twin of ../0005_outbox_claims.sql (types as explained in 0001_init.sql).
-- Outbox rows are claimed before they are sent, so two senders on one database can never take
-- the same row. A row is in flight while it is 'pending' with claimed_by set: the sender that
-- picked it ("host:pid:nonce") and when. Picking and claiming happen in one transaction; the
-- outcome of the send (sent, failed, or back to waiting for a retry) clears or settles the claim.
-- On a sent or failed row claimed_by stays as a record of which sender delivered it.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT COLLATE "C";
ALTER TABLE outbox ADD COLUMN claimed_at TEXT COLLATE "C";
