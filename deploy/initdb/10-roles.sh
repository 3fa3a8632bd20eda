#!/bin/sh
# Run once by the postgres image, on the first start of an empty data volume: the two roles of
# a Ducha installation and its database. ducha_owner owns the database and everything
# `ducha migrate` creates in it; ducha_app is what the servers, the relay and the workers log
# in as: no superuser, may create no database, role or schema. `ducha migrate --grant-to
# ducha_app` grants it what it needs (CONNECT and TEMPORARY included: PUBLIC keeps neither).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v owner_password="$DUCHA_OWNER_PASSWORD" -v app_password="$DUCHA_APP_PASSWORD" <<'SQL'
CREATE ROLE ducha_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
CREATE ROLE ducha_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
CREATE DATABASE ducha OWNER ducha_owner;
REVOKE ALL ON DATABASE ducha FROM PUBLIC;
SQL
