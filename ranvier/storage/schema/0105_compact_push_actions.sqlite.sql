-- Push actions as a WITHOUT ROWID table keyed for the reads (a user's actions in a room
-- after a position): a message into a room of n members writes n rows, and each row went
-- into three B-trees (the table, its primary key, the user-room index), all but the
-- table's ordered by user, so every row dirtied pages of its own. One B-tree now.
-- (user, room, stream_ordering) names one event as (user, event) did.
CREATE TABLE event_push_actions_compact (
    user_id TEXT NOT NULL,
    room_id TEXT NOT NULL,
    stream_ordering BIGINT NOT NULL,
    event_id TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    notify INTEGER NOT NULL,
    highlight INTEGER NOT NULL,
    actions TEXT NOT NULL,
    PRIMARY KEY (user_id, room_id, stream_ordering)
) WITHOUT ROWID;
INSERT INTO event_push_actions_compact (user_id, room_id, stream_ordering, event_id, thread_id, notify, highlight, actions) SELECT user_id, room_id, stream_ordering, event_id, thread_id, notify, highlight, actions FROM event_push_actions;
DROP TABLE event_push_actions;
ALTER TABLE event_push_actions_compact RENAME TO event_push_actions;
