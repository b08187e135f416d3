-- SQLite only (0063_compact_receipts.sqlite.sql).
SELECT 1;
