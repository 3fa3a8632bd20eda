"""``ducha migrate``: provision, once and as the owner role, everything the platform keeps in its
database, and grant the runtime role what it needs. May import: the standard library, psycopg
(its errors, the pool's type), ``services.errors``, ``services.bootstrap`` (to build the
platform as every process does), ``services.stores`` (``pgprovision``, ``pggrants``,
``pgschema``) and the services that keep tables in the read store (``services.signin``,
``services.preferences``, ``services.users``, ``services.http.idempotency``).

How the read side's DDL is collected: every table, index and added column goes through the
read store's ``ensure`` / ``add_columns``, which ask the store's DDL gate first. ``migrate``
builds the platform the way every process does (which opens no office's store) with a gate
that runs and records each statement, then builds the services the HTTP app adds; the
digests it records are what a migrated process's gate skips. A statement no migrate recorded
stops that process with "run ``ducha migrate`` first", so a new table cannot be forgotten.
A projection whose live rows another version built (a blue/green upgrade to come) has its
DDL recorded but not run (``Consumers``): it may not fit the old tables (an index on a column
they lack); ``ducha projections upgrade`` builds them beside and switches them in.
SQLite has no roles: there ``migrate`` creates what is missing, or says there was nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from eventsourcing.postgres import ConnectionPool
from psycopg import Connection
from psycopg.errors import InsufficientPrivilege
from psycopg.rows import DictRow

from services.bootstrap import Platform, Settings, build_platform
from services.errors import StoreUnavailableError
from services.stores import pgprovision as pg
from services.stores.pggrants import grant
from services.stores.pgschema import PLATFORM_SCHEMA, open_shared_pool

Pool = ConnectionPool[Connection[DictRow]]


def read_side_services(platform: Platform) -> None:
    """Build once each service that keeps tables in the read store beyond those
    ``build_platform`` builds (the projections, skipped relays, ledger checkpoints): their
    constructors ``ensure`` their tables."""
    from services.http.idempotency import IdempotencyKeys
    from services.preferences import Preferences
    from services.signin import SignIn
    from services.users import UserDirectory

    IdempotencyKeys(platform.read)
    Preferences(platform.read)
    SignIn(UserDirectory(platform.registry, platform.clock), platform.read, platform.clock)


def migrate(settings: Settings, grant_to: Sequence[str] = ()) -> list[str]:
    """Provision what is missing (idempotent); lines saying what was done."""
    if not settings.database_url:
        if grant_to:
            raise ValueError(
                "--grant-to needs PostgreSQL (DUCHA_DATABASE_URL); SQLite has no roles"
            )
        return migrate_sqlite(settings)
    return migrate_postgres(settings, grant_to)


def sqlite_tables(path: Path) -> set[str]:
    if not path.exists():
        return set()
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    finally:
        conn.close()
    return {str(r[0]) for r in rows}


def migrate_sqlite(settings: Settings) -> list[str]:
    read, registry = settings.data_dir / "read.sqlite", settings.data_dir / "platform.sqlite"
    had_registry, before = registry.exists(), sqlite_tables(read)
    platform = build_platform(settings)
    try:
        read_side_services(platform)
    finally:
        platform.close()
    new = sorted(sqlite_tables(read) - before)
    where = f"SQLite under {settings.data_dir}"
    if had_registry and not new:
        return [f"{where}: nothing to do (every table was there; SQLite has no roles)"]
    lines = [f"{where}: created what was missing"]
    if not had_registry:
        lines.append(f"  office registry: {registry}")
    if new:
        lines.append(f"  read store {read}: {len(new)} tables ({', '.join(new)})")
    return lines


def read_tables(settings: Settings) -> set[str]:
    pool = open_shared_pool(settings.database_url or "", 1, timeout=settings.pg_pool_timeout)
    try:
        with pool.connection() as conn:
            rows = conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (pg.READ_SCHEMA,),
            ).fetchall()
    finally:
        pool.close()
    return {r["table_name"] for r in rows}


def migrate_postgres(settings: Settings, grant_to: Sequence[str]) -> list[str]:
    pool = open_shared_pool(settings.database_url or "", 2, timeout=settings.pg_pool_timeout)
    try:
        return provisioned(settings, grant_to, pool)
    except InsufficientPrivilege as e:  # the runtime role's DSN, most likely
        raise StoreUnavailableError(
            f"{e.diag.message_primary}: run `ducha migrate` as the database's owner role"
        ) from None
    finally:
        pool.close()


def provisioned(settings: Settings, grant_to: Sequence[str], pool: Pool) -> list[str]:
    """Platform and function, the read side's DDL, the grants, and the marker last."""
    pg.provision_platform(pool)
    before = read_tables(settings)
    lines = [
        f"schema {PLATFORM_SCHEMA}: office heads, registry store, schema version, "
        f"{pg.FUNCTION}(code) (SECURITY DEFINER, search_path pinned, not executable by PUBLIC)"
    ]
    statements = collect_read_ddl(settings)
    fresh = pg.record_read_ddl(pool, statements)
    tables = read_tables(settings)
    lines.append(
        f"schema {pg.READ_SCHEMA}: {len(tables)} tables ({len(tables - before)} new), "
        f"{len(set(statements))} statements of DDL recorded ({fresh} new)"
    )
    for role in grant_to:
        granted = grant(pool, role)
        lines.append(
            f"granted {role}: connect, temporary tables, the registry and heads, the read "
            f"store (and its later tables), {pg.FUNCTION}, {granted.offices} office schemas"
        )
        lines.extend(f"warning: {w}" for w in granted.warnings)
    was = pg.mark(pool)
    lines.append(f"schema version {pg.STORE_VERSION} (was {'none' if was is None else was})")
    return lines


def collect_read_ddl(settings: Settings) -> list[str]:
    """Build the platform with a recording gate: every read-side statement runs, as the
    owner, and is returned."""
    platform = build_platform(replace(settings, provisioning="migrate"))
    try:
        read_side_services(platform)
        gate = platform.read.ddl_gate
        assert isinstance(gate, pg.RecordingDDL)
        return list(gate.statements)
    finally:
        platform.close()
