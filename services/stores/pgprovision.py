"""PostgreSQL provisioning and least privilege: what ``ducha migrate`` creates as the owner role,
what it grants the runtime role, and how a process at start-up knows it may run without DDL.
May import: the standard library, psycopg, ``eventsourcing.postgres`` (the pool's type),
``services.errors`` and ``services.stores.pgschema``.

- **The marker.** ``ducha_platform.migrations`` holds the store layout's version
  (``STORE_VERSION``), written last by ``ducha migrate``; ``ducha_platform.read_ddl`` holds a
  digest of every read-side statement (``ReadStore.ensure`` / ``add_columns``) migrate ran.
- **At start-up** (``startup_mode``): marker at this version or newer → ``migrated``: no DDL
  at all; the read store skips each statement it knows and stops at one it does not
  (``KnownDDL``: the database is older than the code). No marker (or an older one) and a role
  that may ``CREATE`` in the database → ``self``: the process creates what is missing, as
  before (development, tests, a single owner role). Otherwise ``NotMigratedError``: "run
  ``ducha migrate`` first", one line.
- **A new office** needs a schema, which the runtime role may not create: migrate installs
  ``ducha_platform.provision_office(code)``, ``SECURITY DEFINER`` (it runs as the owner),
  ``search_path`` pinned, ``EXECUTE`` revoked from ``PUBLIC`` and granted to the runtime roles
  only. It checks the code, creates the schema and event table from a fixed template (the
  recorder's own statements, rendered at migrate time), writes the office's head row and grants
  the runtime roles (``ducha_platform.runtime_roles``) what they need on it.

What ``--grant-to`` grants: ``pggrants``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.postgres import ConnectionPool
from psycopg import Connection
from psycopg.errors import InsufficientPrivilege
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier, Literal

from services.errors import StoreUnavailableError
from services.stores.pgschema import (
    ADVISORY_LOCK_PROVISION,
    EVENTS_TABLE,
    PLATFORM_SCHEMA,
    SchemaDatastore,
    SchemaRecorder,
    backfill_heads,
    head_row,
    heads_ddl,
)

STORE_VERSION = 1
"""The layout ``ducha migrate`` provisions (platform tables, office template, function)."""
MIGRATIONS_TABLE = "migrations"
READ_DDL_TABLE = "read_ddl"
ROLES_TABLE = "runtime_roles"
READ_SCHEMA = "ducha_read"
FUNCTION = "provision_office"
TEMPLATE_SCHEMA = "ducha_office_template"
"""The schema name the office template is rendered with, replaced by each office's."""
RUN_MIGRATE = "run `ducha migrate` (as the owner role) first"


class NotMigratedError(StoreUnavailableError):
    """The database is not provisioned for this version, and this role may not do it."""


def normalised(statement: str) -> str:
    return " ".join(statement.split())


def digest(statement: str) -> str:
    return hashlib.sha256(normalised(statement).encode()).hexdigest()[:32]


@dataclass
class KnownDDL:
    """The read store's DDL gate on a migrated database: a statement migrate ran is skipped
    (False); any other means the database is older than the code."""

    known: frozenset[str]

    def __call__(self, statement: str) -> bool:
        if digest(statement) in self.known:
            return False
        raise NotMigratedError(
            f"the read store lacks what this version needs ({normalised(statement)[:60]}…): "
            + RUN_MIGRATE
        )


@dataclass
class RecordingDDL:
    """The DDL gate while migrating: every statement runs, and is remembered."""

    statements: list[str] = field(default_factory=list)

    def __call__(self, statement: str) -> bool:
        self.statements.append(normalised(statement))
        return True


def platform_table(name: str) -> Composed:
    return SQL("{}.{}").format(Identifier(PLATFORM_SCHEMA), Identifier(name))


# -- start-up ----------------------------------------------------------------------------
@dataclass(frozen=True)
class State:
    version: int | None
    can_create: bool
    role: str
    marked: bool = False
    """The marker's table exists (this role may not read it if ``version`` is None)."""


def state(pool: ConnectionPool[Connection[DictRow]]) -> State:
    """The marker's version (None: none, or this role may not read it) and whether this role
    may create schemas in the database. Reads the catalogs, which every role may."""
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT has_database_privilege(current_database(), 'CREATE') AS can_create, "
            "current_user AS role, EXISTS (SELECT 1 FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s) AS marked",
            (PLATFORM_SCHEMA, MIGRATIONS_TABLE),
        ).fetchone()
        assert row is not None
        version = None
        if row["marked"]:
            try:
                found = conn.execute(
                    SQL("SELECT max(version) AS v FROM {}").format(platform_table(MIGRATIONS_TABLE))
                ).fetchone()
                version = found["v"] if found else None
            except InsufficientPrivilege:
                version = None
    return State(version, bool(row["can_create"]), str(row["role"]), bool(row["marked"]))


def startup_mode(pool: ConnectionPool[Connection[DictRow]]) -> str:
    """``migrated`` (run no DDL), ``self`` (create what is missing) or ``NotMigratedError``."""
    found = state(pool)
    if found.version is not None and found.version >= STORE_VERSION:
        return "migrated"
    if found.can_create:
        return "self"
    if found.marked and found.version is None:
        raise NotMigratedError(
            f"role '{found.role}' was granted nothing here: run `ducha migrate --grant-to "
            f"{found.role}` (as the owner role) first"
        )
    why = "is not provisioned" if found.version is None else "was provisioned by an older version"
    raise NotMigratedError(
        f"the database {why} and role '{found.role}' may not create tables: {RUN_MIGRATE}"
    )


def known_ddl(pool: ConnectionPool[Connection[DictRow]]) -> KnownDDL:
    with pool.connection() as conn:
        rows = conn.execute(
            SQL("SELECT digest FROM {}").format(platform_table(READ_DDL_TABLE))
        ).fetchall()
    return KnownDDL(frozenset(r["digest"] for r in rows))


def provision_office(pool: ConnectionPool[Connection[DictRow]], code: str) -> None:
    """Create an office's schema through the owner's function (the runtime may not)."""
    with pool.connection() as conn:
        conn.execute(SQL("SELECT {}(%s)").format(platform_table(FUNCTION)), (code,))


# -- migrate -----------------------------------------------------------------------------
def platform_ddl() -> list[SQL | Composed]:
    """The platform schema's own tables: the heads, the marker, the read side's statements,
    the runtime roles; and the read store's schema."""
    return [
        *heads_ddl(),
        SQL(
            "CREATE TABLE IF NOT EXISTS {} (version integer PRIMARY KEY, "
            "migrated_at timestamptz NOT NULL DEFAULT now(), by_role text NOT NULL)"
        ).format(platform_table(MIGRATIONS_TABLE)),
        SQL(
            "CREATE TABLE IF NOT EXISTS {} (digest text PRIMARY KEY, statement text NOT NULL)"
        ).format(platform_table(READ_DDL_TABLE)),
        SQL("CREATE TABLE IF NOT EXISTS {} (role_name text PRIMARY KEY)").format(
            platform_table(ROLES_TABLE)
        ),
        SQL("CREATE SCHEMA IF NOT EXISTS {}").format(Identifier(READ_SCHEMA)),
    ]


def office_template(conn: Connection[DictRow], pool: Any) -> list[str]:
    """An office's schema, event table, index and head row as ``format()`` templates (``%1$I``
    the schema, ``%1$L`` its name as a literal): the recorder's own statements."""
    recorder = SchemaRecorder(SchemaDatastore(pool, TEMPLATE_SCHEMA), "template")
    statements: list[SQL | Composed] = [
        SQL("CREATE SCHEMA IF NOT EXISTS {}").format(Identifier(TEMPLATE_SCHEMA)),
        *recorder.sql_create_statements,
        head_row(TEMPLATE_SCHEMA),
    ]
    out = []
    for statement in statements:
        text = statement.as_string(conn).replace("%", "%%")
        text = text.replace(f'"{TEMPLATE_SCHEMA}"', "%1$I").replace(f"'{TEMPLATE_SCHEMA}'", "%1$L")
        if TEMPLATE_SCHEMA in text or "$ducha$" in text:
            raise RuntimeError(f"cannot template: {text}")
        out.append(text)
    return out


CODE_RULE = "^[a-z0-9-]{2,40}$"  # domain.values.OFFICE_CODE, checked again in the database


def function_ddl(conn: Connection[DictRow], pool: Any) -> list[SQL | Composed]:
    """``provision_office(code)``: runs as its owner, with a pinned search path; callable only
    by the runtime roles (granted in ``grant``)."""
    template = office_template(conn, pool)
    steps = "\n".join(f"  EXECUTE format($ducha${t}$ducha$, s);" for t in template)
    grants = (
        "  FOR r IN SELECT role_name FROM ducha_platform.runtime_roles LOOP\n"
        "    EXECUTE format('GRANT USAGE ON SCHEMA %1$I TO %2$I', s, r);\n"
        "    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON %1$I.%3$I TO %2$I', s, r, "
        f"'{EVENTS_TABLE}');\n"
        "    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %1$I TO %2$I', s, r);\n"
        "  END LOOP;"
    )
    name = platform_table(FUNCTION)
    body = (
        "DECLARE s text; r text;\nBEGIN\n"
        f"  IF code IS NULL OR code !~ '{CODE_RULE}' THEN\n"
        "    RAISE EXCEPTION 'not an office code: %', code USING ERRCODE = '22023';\n"
        "  END IF;\n"
        "  s := 'office_' || replace(code, '-', '_');\n"
        f"  PERFORM pg_advisory_xact_lock({ADVISORY_LOCK_PROVISION});\n"
        f"{steps}\n{grants}\n  RETURN s;\nEND"
    )
    return [
        SQL(
            "CREATE OR REPLACE FUNCTION {}(code text) RETURNS text LANGUAGE plpgsql "
            "SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS {}"
        ).format(name, Literal(body)),
        SQL("REVOKE ALL ON FUNCTION {}(text) FROM PUBLIC").format(name),
    ]


def provision_platform(pool: ConnectionPool[Connection[DictRow]]) -> None:
    """Everything of the event stores' side, in one transaction under the provisioning lock:
    the platform tables, the registry's store, the read store's schema, the function."""
    platform = SchemaRecorder(SchemaDatastore(pool, PLATFORM_SCHEMA), "_platform")
    with pool.connection() as conn, conn.transaction(), conn.cursor() as curs:
        curs.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_PROVISION,))
        for statement in platform_ddl():
            curs.execute(statement)
        backfill_heads(curs)
        platform._create_table(curs)
        curs.execute(head_row(PLATFORM_SCHEMA))
        for statement in function_ddl(conn, pool):
            curs.execute(statement)


def record_read_ddl(pool: ConnectionPool[Connection[DictRow]], statements: Iterable[str]) -> int:
    """Remember the read side's statements; how many were new."""
    rows = {digest(s): normalised(s) for s in statements}
    with pool.connection() as conn, conn.transaction():
        known = {
            r["digest"]
            for r in conn.execute(
                SQL("SELECT digest FROM {}").format(platform_table(READ_DDL_TABLE))
            ).fetchall()
        }
        for key, text in rows.items():
            if key not in known:
                conn.execute(
                    SQL("INSERT INTO {} (digest, statement) VALUES (%s, %s)").format(
                        platform_table(READ_DDL_TABLE)
                    ),
                    (key, text),
                )
    return len(set(rows) - known)


def mark(pool: ConnectionPool[Connection[DictRow]]) -> int | None:
    """Write the marker (last: a migrate cut short leaves none); the version there before."""
    before = state(pool).version
    with pool.connection() as conn:
        conn.execute(
            SQL(
                "INSERT INTO {} (version, by_role) VALUES (%s, current_user) "
                "ON CONFLICT (version) DO NOTHING"
            ).format(platform_table(MIGRATIONS_TABLE)),
            (STORE_VERSION,),
        )
    return before
