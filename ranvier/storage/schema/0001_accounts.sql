-- Accounts, their tokens, and registration tokens (issue 3). Owner: accounts store.

CREATE TABLE users (
    user_id TEXT PRIMARY KEY,
    -- argon2id hash in PHC format; NULL when the account cannot log in by password.
    password_hash TEXT,
    created_ts BIGINT NOT NULL,
    is_admin INTEGER NOT NULL DEFAULT 0,
    is_guest INTEGER NOT NULL DEFAULT 0,
    deactivated INTEGER NOT NULL DEFAULT 0,
    appservice_id TEXT
);
-- Login matches localparts case-insensitively, as Synapse does.
CREATE INDEX users_lower_user_id ON users (lower(user_id));

CREATE TABLE access_tokens (
    token TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    device_id TEXT,
    created_ts BIGINT NOT NULL,
    -- Set for tokens issued with a refresh token; NULL: never expires.
    valid_until_ms BIGINT,
    -- The refresh token issued alongside, so refreshing retires this token.
    refresh_token TEXT
);
CREATE INDEX access_tokens_user_device ON access_tokens (user_id, device_id);

CREATE TABLE refresh_tokens (
    token TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    created_ts BIGINT NOT NULL,
    expiry_ts BIGINT
);
CREATE INDEX refresh_tokens_user_device ON refresh_tokens (user_id, device_id);

-- Short-lived tokens for `m.login.token` (POST /_matrix/client/v1/login/get_token).
CREATE TABLE login_tokens (
    token TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    expiry_ts BIGINT NOT NULL
);

-- Synapse-compatible registration tokens (/_synapse/admin/v1/registration_tokens).
CREATE TABLE registration_tokens (
    token TEXT PRIMARY KEY,
    uses_allowed INTEGER,
    pending INTEGER NOT NULL DEFAULT 0,
    completed INTEGER NOT NULL DEFAULT 0,
    expiry_time BIGINT
);
