-- A client created without explicit scopes holds whatever its role allows, also scopes added later.
ALTER TABLE api_clients ALTER COLUMN scopes DROP NOT NULL;
UPDATE api_clients SET scopes = NULL WHERE role = 'registrar';
