-- Rosters (Art. 11, 12): each centre's shifts, as the organisation file's [[shifts]] give them.
-- Routing reads them at the time a report was received; replaced whole when the file is loaded.
CREATE TABLE roster_shifts (
    id          INTEGER PRIMARY KEY,
    centre_id   TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    start_min   INTEGER NOT NULL,           -- minutes after midnight, wall clock (HEATBOT_TZ)
    end_min     INTEGER NOT NULL,           -- at or before start_min: crosses midnight
    days        TEXT NOT NULL,              -- weekdays of the start, Monday 0, e.g. "0,1,2,3,4"
    on_date     TEXT,                       -- an override: replaces the centre's shifts starting that date
    covers      TEXT NOT NULL DEFAULT '',   -- centre ids this shift is the duty centre for, comma-separated
    staff       TEXT NOT NULL DEFAULT ''    -- user ids on duty, comma-separated, in roster order
);

-- Shift handovers (交接班): one row per centre and shift instance, so each is posted exactly
-- once even across restarts. The first shift the bot sees for a centre is recorded without a
-- post (posted = 0): it was already running when the roster was loaded.
CREATE TABLE handovers (
    id           INTEGER PRIMARY KEY,
    centre_id    TEXT NOT NULL,
    shift_key    TEXT NOT NULL,
    starts_at    TEXT NOT NULL,
    ends_at      TEXT NOT NULL,
    posted       INTEGER NOT NULL DEFAULT 1,
    chat_id      INTEGER,
    created_at   TEXT NOT NULL,
    lead_due_at  TEXT,                      -- not acknowledged by then: the centre's lead is told once
    lead_told_at TEXT,
    ack_by       INTEGER,
    ack_name     TEXT,
    ack_at       TEXT,
    UNIQUE (centre_id, shift_key)
);
CREATE INDEX handovers_lead_due ON handovers(lead_due_at) WHERE ack_at IS NULL AND lead_told_at IS NULL;
