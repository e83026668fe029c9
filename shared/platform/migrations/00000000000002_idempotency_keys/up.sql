-- Answers to writes sent with an Idempotency-Key (DESIGN §4), per client: the same key with the
-- same request gets the stored answer again; with another request it is refused.
CREATE TABLE idempotency_keys (
    client_id TEXT NOT NULL,
    key TEXT NOT NULL CHECK (char_length(key) BETWEEN 1 AND 200),
    request_sha256 TEXT NOT NULL,
    status INT NOT NULL CHECK (status BETWEEN 200 AND 599),
    response JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, key)
);

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
