CREATE TABLE processed_events (
    event_id UUID PRIMARY KEY,
    kind TEXT NOT NULL,
    request_sha256 TEXT NOT NULL,
    response JSONB NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO processed_events SELECT event_id, kind, request_sha256, response, received_at FROM inbox_events;
