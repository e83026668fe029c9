-- Endpoint secrets are kept sealed (AES-256-GCM under the service's webhook key, bound to the
-- endpoint id; DESIGN §5). A secret stored in plain text before this migration stays in
-- `legacy_secret` until the service, at its next start, seals it and clears the plain text.
ALTER TABLE webhook_endpoints RENAME COLUMN secret TO legacy_secret;
ALTER TABLE webhook_endpoints ALTER COLUMN legacy_secret DROP NOT NULL;
ALTER TABLE webhook_endpoints ADD COLUMN sealed_secret BYTEA;
ALTER TABLE webhook_endpoints ADD CONSTRAINT webhook_endpoints_secret_kept
    CHECK (legacy_secret IS NOT NULL OR sealed_secret IS NOT NULL);
