-- SQLite only (0104_event_search_pending.sqlite.sql): PostgreSQL indexes each event's
-- tsvector in the events' transaction.
SELECT 1;
