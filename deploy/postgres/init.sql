-- First-start initialisation of the compose `db` service (run once, on an empty data
-- directory, by the postgres image's entrypoint as the superuser; needs psql >= 15).
-- Passwords come from the container's environment, never from this file.
--   agora_owner  owns the database and every table: migrations and `tenants apply` only.
--   agora_app    the web app and worker: no ownership, no superuser, no BYPASSRLS, so the
--                forced row-level security on tenant tables always applies to it.
--   agora_backup the nightly pg_dump only (deploy/backup/agora-backup): BYPASSRLS, so the
--                dump holds every commune, and read-only (pg_read_all_data), so its
--                password in the backup host's hands can change nothing.
-- The app role's name must match AGORA_APP_ROLE (default agora_app), and it must exist
-- before the first migration: the migrations grant it privileges only if it exists.
\set ON_ERROR_STOP on
\getenv owner_password AGORA_OWNER_DB_PASSWORD
\getenv app_password AGORA_APP_DB_PASSWORD
\getenv backup_password AGORA_BACKUP_DB_PASSWORD
\if :{?owner_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'AGORA_OWNER_DB_PASSWORD is not set'; END $$;
\endif
\if :{?app_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'AGORA_APP_DB_PASSWORD is not set'; END $$;
\endif
\if :{?backup_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'AGORA_BACKUP_DB_PASSWORD is not set'; END $$;
\endif

CREATE ROLE agora_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'owner_password';
CREATE ROLE agora_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  NOINHERIT PASSWORD :'app_password';
-- INHERIT: it reads through its membership of pg_read_all_data (PostgreSQL 14+).
CREATE ROLE agora_backup LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION BYPASSRLS
  INHERIT PASSWORD :'backup_password';
GRANT pg_read_all_data TO agora_backup;

CREATE DATABASE agora OWNER agora_owner ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE agora FROM PUBLIC;
GRANT CONNECT ON DATABASE agora TO agora_app, agora_backup;

\connect agora
-- PostgreSQL 15: schema public belongs to pg_database_owner (= agora_owner here) and
-- PUBLIC may not create in it; the app role only uses it. Table privileges are granted
-- by the migrations.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO agora_app;
