-- Outbox rows are claimed before they are sent, so two senders on one database can never take
-- the same row (two bots on one database sent 323 messages for 200 rows). A row is in flight
-- while it is 'pending' with claimed_by set: the sender that picked it ("host:pid:nonce") and
-- when. Picking and claiming happen in one transaction; the outcome of the send (sent, failed,
-- or back to waiting for a retry) clears or settles the claim. Claims of a sender whose process
-- died are released when a sender starts. On a sent or failed row claimed_by stays as a record
-- of which sender delivered it.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_at TEXT;
