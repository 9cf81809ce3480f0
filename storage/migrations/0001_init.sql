-- Organisation (loaded from HEATBOT_ORG at start-up, replaced wholesale each time).
CREATE TABLE org_settings (
    key   TEXT PRIMARY KEY,
    value TEXT
);
CREATE TABLE centres (
    id      TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    kind    TEXT NOT NULL,
    chat_id INTEGER NOT NULL UNIQUE
);
CREATE TABLE communities (
    id      TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    -- lower-cased names and aliases, one per line, for partial matching
    search  TEXT NOT NULL
);
CREATE TABLE community_centres (
    community_id TEXT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    centre_id    TEXT NOT NULL REFERENCES centres(id) ON DELETE CASCADE,
    PRIMARY KEY (community_id, kind)
);
CREATE TABLE staff (
    user_id   INTEGER PRIMARY KEY,
    name      TEXT NOT NULL,
    phone     TEXT NOT NULL,
    centre_id TEXT REFERENCES centres(id) ON DELETE SET NULL,
    role      TEXT NOT NULL
);

-- Everyone who has talked to the bot: language, and a resident's remembered address.
CREATE TABLE users (
    user_id      INTEGER PRIMARY KEY,
    lang         TEXT,
    lang_chosen  INTEGER NOT NULL DEFAULT 0,
    name         TEXT,
    phone        TEXT,
    community_id TEXT,
    community_text TEXT,
    address      TEXT,
    updated_at   TEXT NOT NULL
);

-- A resident's report in progress; kept in the database so a restart does not lose it.
CREATE TABLE drafts (
    user_id    INTEGER PRIMARY KEY,
    nonce      TEXT NOT NULL,
    step       TEXT NOT NULL,
    data       TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE tickets (
    id              INTEGER PRIMARY KEY,
    category        TEXT NOT NULL,
    source          TEXT NOT NULL DEFAULT 'resident',
    level           TEXT NOT NULL,
    status          TEXT NOT NULL,
    centre_id       TEXT REFERENCES centres(id),
    route_note      TEXT,
    resident_user_id INTEGER,
    resident_chat_id INTEGER,
    resident_lang   TEXT NOT NULL,
    resident_name   TEXT,
    phone           TEXT,
    community_id    TEXT,
    community_text  TEXT,
    address         TEXT,
    temperature     REAL,
    photo_file_id   TEXT,
    description     TEXT,
    received_at     TEXT NOT NULL,
    accept_by       TEXT NOT NULL,
    onsite_by       TEXT NOT NULL,
    close_by        TEXT NOT NULL,
    accepted_at     TEXT,
    accepted_by     INTEGER,
    arrived_at      TEXT,
    arrived_by      INTEGER,
    closed_at       TEXT,
    closed_by       INTEGER,
    close_note      TEXT,
    card_chat_id    INTEGER,
    card_message_id INTEGER
);
CREATE INDEX tickets_resident ON tickets(resident_user_id, id);
CREATE INDEX tickets_card ON tickets(card_chat_id, card_message_id);

-- The ledger (台账): append-only, one row per thing that happened to a ticket.
CREATE TABLE ticket_events (
    id        INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    at        TEXT NOT NULL,
    kind      TEXT NOT NULL,
    actor_id  INTEGER,
    actor     TEXT,
    detail    TEXT
);
CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, id);
CREATE TRIGGER ticket_events_append_only_update BEFORE UPDATE ON ticket_events
BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END;
CREATE TRIGGER ticket_events_append_only_delete BEFORE DELETE ON ticket_events
BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END;

-- Messages to send, written in the same transaction as the change that causes them.
-- kind 'message': payload holds the rendered message; kind 'card': the sender renders the
-- ticket's card from the database when it sends, so several changes coalesce into one edit.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    priority   INTEGER NOT NULL,
    ticket_id  INTEGER REFERENCES tickets(id),
    purpose    TEXT NOT NULL,
    payload    TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'pending',
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    sent_at    TEXT,
    message_id INTEGER,
    error      TEXT
);
CREATE INDEX outbox_pending ON outbox(status, chat_id, id);
CREATE INDEX outbox_pending_priority ON outbox(status, priority, id);
