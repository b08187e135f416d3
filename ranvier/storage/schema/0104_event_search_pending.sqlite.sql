-- Searchable text of events not yet in the FTS5 index (storage/search.py): the events'
-- transaction appends here, and the rows move into event_search in batches and before
-- every query. Keyed like event_search, by the event's stream_ordering.
CREATE TABLE event_search_pending (
    stream_ordering INTEGER PRIMARY KEY,
    body TEXT NOT NULL
);
