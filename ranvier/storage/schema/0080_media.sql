-- Local media (docs/MEDIA.md). A row is created either with its content (POST
-- /upload) or empty by POST /create, in which case `uploaded_ts` stays NULL until the
-- one PUT /upload that fills it, and `unused_expires_at` says when the empty ID lapses.
CREATE TABLE local_media (
    media_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    created_ts BIGINT NOT NULL,
    unused_expires_at BIGINT,
    uploaded_ts BIGINT,
    content_type TEXT,
    upload_name TEXT,
    media_length BIGINT,
    -- hex SHA-256 of the content; also part of the file's storage key
    sha256 TEXT,
    -- 1: uploaded while enable_authenticated_media was on, so never served by the
    -- legacy unauthenticated /_matrix/media/v3 downloads
    authenticated INTEGER NOT NULL
);
-- Counting a user's pending (created, not uploaded) media IDs.
CREATE INDEX local_media_pending ON local_media (user_id, unused_expires_at)
    WHERE uploaded_ts IS NULL;

-- Thumbnails, generated on first request and kept. The key is what was generated
-- (a configured size, or the requested one with dynamic_thumbnails); the thumbnail's
-- own pixel size is smaller when the original is.
CREATE TABLE local_media_thumbnails (
    media_id TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    method TEXT NOT NULL,
    animated INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    media_length BIGINT NOT NULL,
    PRIMARY KEY (media_id, width, height, method, animated)
);

-- URL preview cache: the OpenGraph answer for a URL until `expires_ts`.
CREATE TABLE url_previews (
    url TEXT PRIMARY KEY,
    fetched_ts BIGINT NOT NULL,
    expires_ts BIGINT NOT NULL,
    og TEXT NOT NULL
);
