-- PostgreSQL twin of ../0003_delivery.sql.
-- Reliable delivery. No new tables: a digest is recorded in the ticket ledger
-- (card_posted with "digest": true) and on the outbox rows it carried. These indexes serve the
-- sender's per-chat look-ups: a chat's pending rows by kind and ticket (digest candidates,
-- card refreshes to supersede), and a sent message by (chat, message id).
CREATE INDEX outbox_chat_kind ON outbox(status, chat_id, kind, ticket_id);
CREATE INDEX outbox_chat_message ON outbox(chat_id, message_id);
