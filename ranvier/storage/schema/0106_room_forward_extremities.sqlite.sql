-- A room's forward extremities as one row (a JSON array of event IDs), replaced in
-- place by every batch. As rows of (room, event) each batch deleted one and inserted
-- another; on PostgreSQL every such pair left a dead entry in the primary key, which the
-- next batch's lookup walked again (thousands per lookup within minutes of steady
-- sending). One row per room updates without touching its only index (a HOT update on
-- PostgreSQL), and costs SQLite one statement a batch instead of two.
CREATE TABLE room_forward_extremities (
    room_id TEXT PRIMARY KEY,
    event_ids TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO room_forward_extremities (room_id, event_ids)
    SELECT room_id, json_group_array(event_id)
    FROM (SELECT room_id, event_id FROM forward_extremities ORDER BY room_id, event_id)
    GROUP BY room_id;
DROP TABLE forward_extremities;
