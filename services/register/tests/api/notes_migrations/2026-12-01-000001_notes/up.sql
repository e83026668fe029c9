CREATE TABLE notes (
    id UUID PRIMARY KEY,
    practice_agb TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
