-- User-interactive authentication sessions, kept in the database so that they survive
-- a restart (client-server API "User-interactive authentication API").

CREATE TABLE ui_auth_sessions (
    session_id TEXT PRIMARY KEY,
    created_ts BIGINT NOT NULL,
    -- The request the session authorises: a session cannot be reused for another one.
    method TEXT NOT NULL,
    uri TEXT NOT NULL,
    -- The user the session acts for (NULL for registration).
    user_id TEXT,
    -- JSON object: stage type -> what completing it established.
    completed TEXT NOT NULL DEFAULT '{}',
    -- JSON object: values remembered between the requests of one session.
    data TEXT NOT NULL DEFAULT '{}'
);
