-- The deadline clock (Art. 12–13). One row per ticket and limit; the sweeper looks only at
-- rows whose next_at has come (partial index), so its cost follows what is due, not what is open.
CREATE TABLE deadlines (
    id              INTEGER PRIMARY KEY,
    ticket_id       INTEGER NOT NULL REFERENCES tickets(id),
    kind            TEXT NOT NULL,              -- accept | onsite | close | report
    due_at          TEXT NOT NULL,
    original_due_at TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'open',   -- open | met | cancelled
    stage           INTEGER NOT NULL DEFAULT 0,     -- 0 none, 1 reminded, 2 escalated, 3 head told
    next_at         TEXT,                           -- NULL: nothing left to fire
    met_at          TEXT,
    late            INTEGER,                        -- 1: counts late (Art. 13, other rules (2))
    delayed         INTEGER NOT NULL DEFAULT 0,     -- an approved delay moved due_at
    UNIQUE (ticket_id, kind)
);
CREATE INDEX deadlines_next ON deadlines(next_at) WHERE next_at IS NOT NULL;

-- What the clock said and to whom; acknowledgements are recorded here and in the ledger.
CREATE TABLE alerts (
    id           INTEGER PRIMARY KEY,
    ticket_id    INTEGER NOT NULL REFERENCES tickets(id),
    deadline_id  INTEGER REFERENCES deadlines(id),
    kind         TEXT NOT NULL,                 -- reminder | overdue | head | wide_impact
    created_at   TEXT NOT NULL,
    late_minutes INTEGER NOT NULL DEFAULT 0,
    ack_by       INTEGER,
    ack_name     TEXT,
    ack_at       TEXT
);
CREATE INDEX alerts_ticket ON alerts(ticket_id);

-- Crew requests that need a reply or dispatch's decision: delay, return (退单), written report.
CREATE TABLE requests (
    id            INTEGER PRIMARY KEY,
    ticket_id     INTEGER NOT NULL REFERENCES tickets(id),
    kind          TEXT NOT NULL,                -- delay | return | report | scope_note
    deadline_kind TEXT,
    requested_by  INTEGER NOT NULL,
    requested_at  TEXT NOT NULL,
    reason        TEXT,
    new_due_at    TEXT,
    status        TEXT NOT NULL,                -- awaiting_reply | pending | approved | rejected | done | cancelled
    decided_by    INTEGER,
    decided_at    TEXT,
    outcome       TEXT
);
CREATE INDEX requests_ticket ON requests(ticket_id, kind, status);

-- How a ticket ended: done, out_of_scope (Art. 6).
ALTER TABLE tickets ADD COLUMN outcome TEXT;

-- Find the request a reply answers: the prompt's outbox row knows its message id once sent.
CREATE INDEX outbox_message ON outbox(chat_id, message_id);

-- Tickets filed before this migration get their clocks too.
INSERT INTO deadlines (ticket_id, kind, due_at, original_due_at, state, next_at)
SELECT id, 'accept', accept_by, accept_by, CASE WHEN status = 'new' THEN 'open' ELSE 'met' END,
       CASE WHEN status = 'new' THEN accept_by END FROM tickets;
INSERT INTO deadlines (ticket_id, kind, due_at, original_due_at, state, next_at)
SELECT id, 'onsite', onsite_by, onsite_by, CASE WHEN status IN ('new', 'accepted') THEN 'open' ELSE 'met' END,
       CASE WHEN status IN ('new', 'accepted') THEN onsite_by END FROM tickets;
INSERT INTO deadlines (ticket_id, kind, due_at, original_due_at, state, next_at)
SELECT id, 'close', close_by, close_by, CASE WHEN status <> 'closed' THEN 'open' ELSE 'met' END,
       CASE WHEN status <> 'closed' THEN close_by END FROM tickets;
