-- Outage notices (issue 6; Art. 10 (2), 14, 15, 23 (3)-(5)): planned and emergency shutdowns,
-- heat-meter calibration notices, their posting in the communities, residents' subscriptions.
CREATE TABLE outages (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL,                 -- planned | emergency | calibration
    status           TEXT NOT NULL,                 -- pending (awaiting approval) | rejected | published | restored
    reason           TEXT NOT NULL,
    buildings        TEXT,                          -- optional: which buildings of the communities
    pipe_diameter    TEXT,                          -- emergency (Art. 15)
    valves           TEXT,                          -- emergency: number and size of valves closed
    area             TEXT,                          -- emergency: the affected area in words
    starts_at        TEXT NOT NULL,
    ends_at          TEXT NOT NULL,                 -- expected end (restoration), updated by dispatch
    original_ends_at TEXT NOT NULL,
    short_notice     INTEGER NOT NULL DEFAULT 0,    -- confirmed inside the notice period or in the past
    chat_id          INTEGER NOT NULL,              -- where it was drafted (the dispatch group)
    created_by       INTEGER NOT NULL,
    created_name     TEXT,
    created_at       TEXT NOT NULL,
    decided_by       INTEGER,
    decided_name     TEXT,
    decided_at       TEXT,
    published_at     TEXT,
    restored_at      TEXT,
    restored_by      INTEGER,
    restored_name    TEXT,
    reminder_at      TEXT,                          -- subscribers' reminder before the start; NULL: none left
    panel_outbox_id  INTEGER,                       -- dispatch's progress message (outbox row that posted it)
    panel_text       TEXT,                          -- what the progress message last said
    panel_at         TEXT
);
CREATE INDEX outages_reminder ON outages(reminder_at) WHERE reminder_at IS NOT NULL;
CREATE INDEX outages_open ON outages(status) WHERE status IN ('pending', 'published');

CREATE TABLE outage_communities (
    outage_id    INTEGER NOT NULL REFERENCES outages(id),
    community_id TEXT NOT NULL,
    PRIMARY KEY (outage_id, community_id)
);
CREATE INDEX outage_communities_community ON outage_communities(community_id, outage_id);

-- One posting task per outage and centre (Art. 23 (4)): a deadline reminded and escalated
-- like a ticket's (rules.deadlines.plan); the sweeper finds due rows by next_at.
CREATE TABLE outage_postings (
    id               INTEGER PRIMARY KEY,
    outage_id        INTEGER NOT NULL REFERENCES outages(id),
    centre_id        TEXT NOT NULL,
    chat_id          INTEGER NOT NULL,
    communities      TEXT NOT NULL,                 -- JSON list of community ids
    due_at           TEXT NOT NULL,
    stage            INTEGER NOT NULL DEFAULT 0,
    next_at          TEXT,
    notice_outbox_id INTEGER,                       -- the notice with the "Notice posted" button
    posted_at        TEXT,
    posted_by        INTEGER,
    posted_name      TEXT,
    late             INTEGER,
    photo_file_id    TEXT,
    UNIQUE (outage_id, centre_id)
);
CREATE INDEX outage_postings_next ON outage_postings(next_at) WHERE next_at IS NOT NULL;
CREATE INDEX outage_postings_notice ON outage_postings(notice_outbox_id);

-- The outage's record (Art. 14: keep the record): append-only like the tickets' ledger.
CREATE TABLE outage_events (
    id        INTEGER PRIMARY KEY,
    outage_id INTEGER NOT NULL REFERENCES outages(id),
    at        TEXT NOT NULL,
    kind      TEXT NOT NULL,
    actor_id  INTEGER,
    actor     TEXT,
    detail    TEXT
);
CREATE INDEX outage_events_outage ON outage_events(outage_id, id);
CREATE TRIGGER outage_events_append_only_update BEFORE UPDATE ON outage_events
BEGIN SELECT RAISE(ABORT, 'outage_events is append-only'); END;
CREATE TRIGGER outage_events_append_only_delete BEFORE DELETE ON outage_events
BEGIN SELECT RAISE(ABORT, 'outage_events is append-only'); END;

-- Which outbox rows carried an outage's messages, and to whom: the progress message counts them.
CREATE TABLE outage_messages (
    outbox_id INTEGER PRIMARY KEY,
    outage_id INTEGER NOT NULL REFERENCES outages(id),
    audience  TEXT NOT NULL                          -- resident | staff | prompt | panel
);
CREATE INDEX outage_messages_outage ON outage_messages(outage_id, audience);

-- A dispatcher's /outage in progress (one per person), kept in the database like drafts.
CREATE TABLE outage_wizards (
    user_id    INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL,
    nonce      TEXT NOT NULL,
    step       TEXT NOT NULL,
    data       TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Residents who want outage notices for a community (subscribed when they report).
CREATE TABLE subscriptions (
    user_id      INTEGER NOT NULL,
    community_id TEXT NOT NULL,
    chat_id      INTEGER NOT NULL,
    lang         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (user_id, community_id)
);
CREATE INDEX subscriptions_community ON subscriptions(community_id, user_id);

-- A "home not warm" report filed anyway during an outage is linked to it.
ALTER TABLE tickets ADD COLUMN outage_id INTEGER REFERENCES outages(id);
CREATE INDEX tickets_outage ON tickets(outage_id) WHERE outage_id IS NOT NULL;
