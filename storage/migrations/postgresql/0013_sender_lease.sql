-- PostgreSQL twin of ../0013_sender_lease.sql (types as explained in 0001_init.sql).
-- One sender per bot at a time (several instances on one PostgreSQL database; on SQLite the
-- one process always holds it). Telegram's flood limits are per bot, so only the instance
-- holding the bot's lease sends; the others handle updates and commit outbox rows, and try to
-- take the lease when it runs out. holder is the sender's claimer name ("host:pid:start:nonce",
-- as on the outbox rows it claims); taken_at is when this holder took it (kept on renewal),
-- expires_at when another instance may take it. Times are ISO text, compared as strings.
CREATE TABLE sender_lease (
    bot_id     BIGINT PRIMARY KEY,      -- the token's digits before ':'
    holder     TEXT COLLATE "C" NOT NULL,
    taken_at   TEXT COLLATE "C" NOT NULL,
    renewed_at TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL
);
