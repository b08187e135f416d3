-- Dehydrated devices (MSC3814, storage/dehydrated_devices.py): at most one per user.
-- The device itself is an ordinary row of `devices`; this holds its encrypted pickle.
CREATE TABLE dehydrated_devices (
    user_id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    device_data TEXT NOT NULL
);
