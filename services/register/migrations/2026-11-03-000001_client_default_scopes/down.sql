UPDATE api_clients SET scopes = '{}' WHERE scopes IS NULL;
ALTER TABLE api_clients ALTER COLUMN scopes SET NOT NULL;
