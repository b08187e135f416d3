-- SQLite only (0012_compact_tables.sqlite.sql): PostgreSQL's heap tables have no
-- rowid to drop.
SELECT 1;
