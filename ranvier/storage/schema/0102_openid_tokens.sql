-- OpenID tokens (client-server API "OpenID", server-server API "OpenID"): issued to a
-- user for a third party, which exchanges them at /_matrix/federation/v1/openid/userinfo.
CREATE TABLE openid_tokens (
    token TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    expires_ts BIGINT NOT NULL
);
CREATE INDEX openid_tokens_expiry ON openid_tokens (expires_ts);
