-- The hotline staff registry and its change log (Art. 12: each centre's hotline staff are
-- registered with dispatch and every change is reported at once).

-- A staff member's registration may start or end on a date (a new hire, a contract's end).
ALTER TABLE staff ADD COLUMN valid_from TEXT;   -- ISO date, inclusive; NULL: no start
ALTER TABLE staff ADD COLUMN valid_to   TEXT;   -- ISO date, inclusive; NULL: open-ended

-- One row per apply that changed something (`heatbot org apply`, or the bot's start-up finding
-- a different HEATBOT_ORG). ``text`` is the organisation file as applied: the next apply is
-- diffed against it, so every field of the file shows in the diff.
CREATE TABLE org_applies (
    id         INTEGER PRIMARY KEY,
    applied_at TEXT NOT NULL,
    applied_by TEXT NOT NULL,
    path       TEXT,
    text       TEXT NOT NULL
);

-- Every change, field by field: what changed, old -> new.
CREATE TABLE org_changes (
    id       INTEGER PRIMARY KEY,
    apply_id INTEGER NOT NULL REFERENCES org_applies(id),
    section  TEXT NOT NULL,      -- centres | communities | staff | settings | api_channels | ...
    item     TEXT NOT NULL,      -- the entry's id (a staff member's user id, a setting's key)
    label    TEXT,               -- its name, for people reading the log
    change   TEXT NOT NULL,      -- added | removed | changed
    field    TEXT,               -- for "changed": which field
    old      TEXT,
    new      TEXT
);
CREATE INDEX org_changes_apply ON org_changes(apply_id);

-- A group upgraded to a supergroup gets a new chat id (Telegram's migrate_to_chat_id). The
-- organisation file may still name the old one; an apply follows this map rather than
-- pointing the centre back at a chat that no longer takes messages.
CREATE TABLE chat_moves (
    old_chat_id INTEGER PRIMARY KEY,
    new_chat_id INTEGER NOT NULL,
    moved_at    TEXT NOT NULL
);
