-- Closing the loop with the resident (Art. 8), repeat faults (Art. 23) and repeated
-- complaints (Art. 24).
ALTER TABLE tickets ADD COLUMN reopen_count INTEGER NOT NULL DEFAULT 0;
-- What the resident said when they pressed "not solved"; the reopened card shows it.
ALTER TABLE tickets ADD COLUMN reopen_note TEXT;
-- A report for the same flat (or building) and category within the repeat window of a closed one.
ALTER TABLE tickets ADD COLUMN repeat_of INTEGER REFERENCES tickets(id);
-- Further reports by residents while this ticket was still open (Art. 24: two or more complaints).
ALTER TABLE tickets ADD COLUMN complaints INTEGER NOT NULL DEFAULT 0;
-- A voice note the resident sent instead of typing a description; played under the card.
ALTER TABLE tickets ADD COLUMN voice_file_id TEXT;
-- The centre's hotline (organisation file): on residents' receipts and status messages.
ALTER TABLE centres ADD COLUMN hotline TEXT;
-- Where the report was: the normalised flat and building, so repeats are found by key.
ALTER TABLE tickets ADD COLUMN flat_key TEXT;
ALTER TABLE tickets ADD COLUMN building_key TEXT;
CREATE INDEX tickets_flat ON tickets(community_id, flat_key, category);
CREATE INDEX tickets_building ON tickets(community_id, building_key, category, received_at);

-- One follow-up per ticket: the question asked after each Done (round = the ticket's reopen
-- count at that closing, so a button from an earlier round is stale).
CREATE TABLE followups (
    ticket_id    INTEGER PRIMARY KEY REFERENCES tickets(id),
    round        INTEGER NOT NULL,
    asked_at     TEXT NOT NULL,
    due_at       TEXT NOT NULL,          -- no answer by then: onto dispatch's phone list
    state        TEXT NOT NULL,          -- asked | rating | comment | reason | done | reopened | listed | phoned
    solved       INTEGER,                -- 1 solved, 0 not solved, NULL not answered
    rating       INTEGER,
    comment      TEXT,
    phone_result TEXT,                   -- satisfied | basic | unsatisfied | unreachable
    answered_at  TEXT,
    answered_by  INTEGER
);
CREATE INDEX followups_due ON followups(state, due_at);

-- "Possible building-wide fault" alerts already raised, so one cluster raises one alert.
CREATE TABLE cluster_alerts (
    id           INTEGER PRIMARY KEY,
    community_id TEXT NOT NULL,
    building_key TEXT NOT NULL,
    category     TEXT NOT NULL,
    at           TEXT NOT NULL,
    tickets      TEXT NOT NULL
);
CREATE INDEX cluster_alerts_building ON cluster_alerts(community_id, building_key, category, at);
