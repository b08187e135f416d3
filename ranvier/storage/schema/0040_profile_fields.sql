-- Extended profiles (spec v1.16+): fields other than displayname and avatar_url, as a
-- JSON object (services/profiles.py keeps the whole profile under 64 KiB).
ALTER TABLE profiles ADD COLUMN fields TEXT;
