-- Our users' global profiles; membership events copy them (services/membership.py).
CREATE TABLE profiles (
    user_id TEXT PRIMARY KEY,
    displayname TEXT,
    avatar_url TEXT
);
