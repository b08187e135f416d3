-- One row per room of forward extremities, updated in place (see the .sqlite.sql twin
-- for why). Half-empty pages leave room for the new version of a row beside the old,
-- which is what lets PostgreSQL skip the index on update (HOT).
CREATE TABLE room_forward_extremities (
    room_id TEXT PRIMARY KEY,
    event_ids TEXT NOT NULL
) WITH (fillfactor = 50);
INSERT INTO room_forward_extremities (room_id, event_ids)
    SELECT room_id, json_agg(event_id ORDER BY event_id)::text
    FROM forward_extremities GROUP BY room_id;
DROP TABLE forward_extremities;
