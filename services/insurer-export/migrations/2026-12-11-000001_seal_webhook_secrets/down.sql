-- A sealed secret cannot be turned back into plain text by SQL: refuse while any exists.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM webhook_endpoints WHERE legacy_secret IS NULL) THEN
        RAISE EXCEPTION 'webhook endpoints with sealed secrets exist; delete them first';
    END IF;
END $$;
ALTER TABLE webhook_endpoints DROP CONSTRAINT webhook_endpoints_secret_kept;
ALTER TABLE webhook_endpoints DROP COLUMN sealed_secret;
ALTER TABLE webhook_endpoints ALTER COLUMN legacy_secret SET NOT NULL;
ALTER TABLE webhook_endpoints RENAME COLUMN legacy_secret TO secret;
