-- The dispatch desk (Art. 4, 5, 10 (1)): tickets entered on a caller's behalf and tickets
-- handed over by an outside platform through the Open311 API.

-- The outside reference (a 12345 work-order number, an API client's external_id), the API
-- channel a ticket came through, and the staff member who entered it and the chat they did
-- it in (where what a resident would be told goes, since the caller has no Telegram chat).
ALTER TABLE tickets ADD COLUMN external_ref TEXT;
ALTER TABLE tickets ADD COLUMN channel TEXT;
ALTER TABLE tickets ADD COLUMN entered_by INTEGER;
ALTER TABLE tickets ADD COLUMN entered_name TEXT;
ALTER TABLE tickets ADD COLUMN filer_chat_id INTEGER;
-- A platform that retries must not create two tickets: the key is (channel, external_id).
CREATE UNIQUE INDEX tickets_channel_ref ON tickets(channel, external_ref)
    WHERE channel IS NOT NULL AND external_ref IS NOT NULL;
CREATE INDEX tickets_received ON tickets(received_at);

-- API channels from the organisation file: only the SHA-256 of each key is kept.
CREATE TABLE api_channels (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    source   TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    revoked  INTEGER NOT NULL DEFAULT 0
);

-- A staff member's /new in progress, kept like a resident's draft so a restart loses nothing.
CREATE TABLE desk_wizards (
    user_id    INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL,
    nonce      TEXT NOT NULL,
    step       TEXT NOT NULL,
    data       TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- The daily count of yesterday's tickets by source and level, posted once per day.
CREATE TABLE desk_daily (
    day     TEXT PRIMARY KEY,
    sent_at TEXT NOT NULL
);

-- The register of praise, criticism, press reports and supervision by higher authorities
-- (Art. 10 (1), Art. 18-24): the inputs of the centres' assessment.
CREATE TABLE register_entries (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,          -- praise | criticism | press | supervision
    centre_id   TEXT NOT NULL,
    staff_id    INTEGER,                -- the staff member named, if any
    staff_name  TEXT,
    source      TEXT NOT NULL,
    text        TEXT NOT NULL,
    ticket_id   INTEGER REFERENCES tickets(id),
    entered_by  INTEGER NOT NULL,
    entered_name TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX register_entries_at ON register_entries(at);

-- A dispatcher's /register entry in progress (one per person, beside a /new in progress).
CREATE TABLE register_wizards (
    user_id    INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL,
    nonce      TEXT NOT NULL,
    step       TEXT NOT NULL,
    data       TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
