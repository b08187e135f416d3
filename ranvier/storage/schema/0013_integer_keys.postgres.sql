-- SQLite only (0013_integer_keys.sqlite.sql).
SELECT 1;
