-- Events already applied now live in the platform's inbox (inbox_events, created by the
-- platform's migrations, which run first); keep every id applied so far.
INSERT INTO inbox_events (event_id, kind, request_sha256, response, received_at)
SELECT event_id, kind, request_sha256, response, received_at FROM processed_events
ON CONFLICT (event_id) DO NOTHING;

DROP TABLE processed_events;
