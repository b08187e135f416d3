-- The user directory (storage/user_directory.py). Local users are searched through
-- `profiles`; this table holds the name and avatar of every user as their latest join
-- event in any room gave them, so users of other servers can be found too.
CREATE TABLE user_directory (
    user_id TEXT PRIMARY KEY,
    display_name TEXT,
    avatar_url TEXT
);

-- Which rooms make their members visible to everyone: a public join rule or
-- world-readable history (client-server API "User directory").
CREATE TABLE user_directory_rooms (
    room_id TEXT PRIMARY KEY,
    join_rule_public INTEGER NOT NULL DEFAULT 0,
    world_readable INTEGER NOT NULL DEFAULT 0
);
