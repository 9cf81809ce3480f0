-- PostgreSQL twin of ../0010_figures.sql.
-- Assessment figures (Art. 8, 10 (1), Ch. 4-5): `heatbot report` and /stats count from the
-- ledger and the deadlines with SQL aggregation. These indexes let a period's report read only
-- that period's rows, however many seasons the database holds.
-- The ledger by kind and time: the judged limits, decisions, follow-ups of a period.
CREATE INDEX ticket_events_kind_at ON ticket_events(kind, at);
-- A ticket's routing and transfers by time: which centre held it when a limit passed.
CREATE INDEX ticket_events_ticket_kind_at ON ticket_events(ticket_id, kind, at);
-- Outage notices by their posting deadline (Art. 23 (4)).
CREATE INDEX outage_postings_due ON outage_postings(due_at);
-- Households per community (optional `households` in the organisation file): complaints per
-- 1,000 households.
ALTER TABLE communities ADD COLUMN households INTEGER;
