-- SQLite only (0105_compact_push_actions.sqlite.sql): PostgreSQL tables have no rowid B-tree.
SELECT 1;
