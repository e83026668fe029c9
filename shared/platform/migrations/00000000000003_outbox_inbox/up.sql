-- Transactional outbox (DESIGN §2): an event is written in the transaction of the change it
-- reports, and a relay delivers it at least once. Rows are claimed with FOR UPDATE SKIP LOCKED, so
-- replicas sharing the database never deliver one row at the same time.
CREATE TABLE outbox_events (
    id BIGSERIAL PRIMARY KEY,
    event_id UUID NOT NULL,
    destination TEXT NOT NULL CHECK (char_length(destination) BETWEEN 1 AND 100),
    kind TEXT NOT NULL,
    payload JSONB NOT NULL,
    -- pending: to be delivered; delivered: a 2xx answer; failed: refused for good (a 4xx other
    -- than 401, 408 and 429), kept with the answer for an operator.
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_attempt_at TIMESTAMPTZ,
    last_status INT,
    last_error TEXT,
    delivered_at TIMESTAMPTZ,
    UNIQUE (destination, event_id)
);

CREATE INDEX outbox_events_pending ON outbox_events (id) WHERE status = 'pending';
CREATE INDEX outbox_events_failed ON outbox_events (id) WHERE status = 'failed';
CREATE INDEX outbox_events_delivered ON outbox_events (delivered_at) WHERE status = 'delivered';

-- Inbox: events received from other services, applied once per event id. The same event again
-- gets the stored answer; the same id with another body is refused.
CREATE TABLE inbox_events (
    event_id UUID PRIMARY KEY,
    kind TEXT NOT NULL,
    request_sha256 TEXT NOT NULL,
    response JSONB NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX inbox_events_received ON inbox_events (received_at);
