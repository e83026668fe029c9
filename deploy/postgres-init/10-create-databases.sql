-- Runs once, when the compose PostgreSQL initialises an empty data volume
-- (docker-entrypoint-initdb.d). Safe to run again by hand:
--   psql -U postgres -d postgres -f deploy/postgres-init/10-create-databases.sql
SELECT format('CREATE DATABASE %I', name)
FROM unnest(ARRAY[
    'praktijkregister_register',
    'praktijkregister_visitation',
    'praktijkregister_export'
]) AS name
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = name)
\gexec
