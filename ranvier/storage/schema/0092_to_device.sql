-- The "to_device" stream (services/to_device.py): each device's inbox, in stream
-- order. A sync that acknowledges a position deletes the messages up to it.
CREATE TABLE to_device_inbox (
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    stream_id BIGINT NOT NULL,
    message_json TEXT NOT NULL,
    PRIMARY KEY (user_id, device_id, stream_id)
);
CREATE INDEX to_device_inbox_stream ON to_device_inbox (stream_id);

-- Transaction IDs of /sendToDevice, so a retried request is not delivered twice.
-- sender_device is the sender's device ID (or its access token when it has none).
CREATE TABLE to_device_txns (
    user_id TEXT NOT NULL,
    sender_device TEXT NOT NULL,
    txn_id TEXT NOT NULL,
    inserted_ts BIGINT NOT NULL,
    PRIMARY KEY (user_id, sender_device, txn_id)
);
