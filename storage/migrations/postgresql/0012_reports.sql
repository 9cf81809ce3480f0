-- PostgreSQL twin of ../0012_reports.sql (types as explained in 0001_init.sql).
-- The weekly and monthly reports to the leadership group (Art. 8, 10 (1)): one row per report
-- sent, so a restart or a second sweep never sends the same week or month twice.
CREATE TABLE report_marks (
    period  TEXT COLLATE "C" PRIMARY KEY, -- 'week:2026-01-12' (its Monday) or 'month:2026-01'
    sent_at TEXT COLLATE "C" NOT NULL
);

-- A file made when the message was queued (a chart, a report page), sent with it as a photo or
-- a document. It is made once, from the figures as they were when asked for, and dropped once
-- the message has left (see storage/reports.py). SQLite's BLOB is PostgreSQL's BYTEA.
ALTER TABLE outbox ADD COLUMN file BYTEA;
CREATE INDEX outbox_with_file ON outbox(id) WHERE file IS NOT NULL;
