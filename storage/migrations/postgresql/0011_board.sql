-- PostgreSQL twin of ../0011_board.sql (types as explained in 0001_init.sql).
-- The dispatch board (bot/web/board.py): one-time login links and browser sessions. Only the
-- SHA-256 of each token is kept, so a copy of the database opens no session.
CREATE TABLE board_logins (
    token_hash  TEXT COLLATE "C" PRIMARY KEY,
    user_id     BIGINT NOT NULL,
    lang        TEXT COLLATE "C" NOT NULL, -- the language of the chat that asked for it
    created_at  TEXT COLLATE "C" NOT NULL,
    expires_at  TEXT COLLATE "C" NOT NULL,
    used_at     TEXT COLLATE "C"    -- set once: a link works a single time
);
CREATE TABLE board_sessions (
    token_hash  TEXT COLLATE "C" PRIMARY KEY,
    user_id     BIGINT NOT NULL,
    csrf        TEXT COLLATE "C" NOT NULL, -- sent back in every form; a cross-site form cannot know it
    via         TEXT COLLATE "C" NOT NULL, -- link | webapp
    lang        TEXT COLLATE "C" NOT NULL, -- the pages' language: the user's, as in their chat with the bot
    created_at  TEXT COLLATE "C" NOT NULL,
    expires_at  TEXT COLLATE "C" NOT NULL
);
CREATE INDEX board_sessions_expiry ON board_sessions(expires_at);
-- The board lists open tickets; closed ones are most of the table after a season. Both
-- indexes hold only what is open and cover what the list reads, so listing 5,000 open tickets
-- of 100,000 reads two small indexes and not the tables (bench/board.py).
CREATE INDEX tickets_open ON tickets(status, id, category, level, centre_id, community_id, community_text, address,
                                     accepted_by, arrived_by, reopen_count) WHERE status <> 'closed';
CREATE INDEX deadlines_open ON deadlines(state, ticket_id, due_at, kind, delayed) WHERE state = 'open';
