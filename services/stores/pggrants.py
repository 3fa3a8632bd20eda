"""What ``ducha migrate --grant-to ROLE`` grants the runtime role, and nothing more (the
reasons, right by right, are in ``grant``). May import: the standard library, psycopg,
``eventsourcing.postgres`` (the pool's type) and ``services.stores``' ``pgprovision`` and
``pgschema``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from eventsourcing.postgres import ConnectionPool
from psycopg import Connection, Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from services.stores.pgprovision import (
    FUNCTION,
    MIGRATIONS_TABLE,
    READ_DDL_TABLE,
    READ_SCHEMA,
    ROLES_TABLE,
    platform_table,
)
from services.stores.pgschema import ADVISORY_LOCK_PROVISION, EVENTS_TABLE, PLATFORM_SCHEMA

ROLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$-]{0,62}")


def office_schemas(curs: Cursor[DictRow]) -> list[str]:
    curs.execute(
        "SELECT table_schema FROM information_schema.tables WHERE table_name = %s "
        "AND table_schema LIKE 'office\\_%%' ORDER BY 1",
        (EVENTS_TABLE,),
    )
    return [r["table_schema"] for r in curs.fetchall()]


@dataclass(frozen=True)
class Granted:
    role: str
    offices: int
    warnings: tuple[str, ...]


def grant(pool: ConnectionPool[Connection[DictRow]], role: str) -> Granted:
    """What the runtime role ``role`` needs, and nothing more: connect and temporary tables
    (bulk upserts stage rows there); the event tables: read, append, and ``UPDATE`` only
    because ``LOCK TABLE … IN EXCLUSIVE MODE`` (which keeps ids in commit order) requires it;
    the heads; the marker, read-only; the read store's tables: read and write, also those a
    later migrate creates (default privileges); the office function. Every office schema
    there is now gets the same; those created later get it from the function."""
    if not ROLE_NAME.fullmatch(role):
        raise ValueError(f"'{role}' is not a role name")
    r = Identifier(role)
    with pool.connection() as conn, conn.transaction(), conn.cursor() as curs:
        curs.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, "
            "has_database_privilege(rolname, current_database(), 'CREATE') AS can_create, "
            "current_database() AS database "
            "FROM pg_catalog.pg_roles WHERE rolname = %s",
            (role,),
        )
        found = curs.fetchone()
        if found is None:
            raise ValueError(
                f"no role '{role}' on this server: create it first "
                f"(CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD …)"
            )
        curs.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_PROVISION,))
        for statement in grants(r, found["database"]):
            curs.execute(statement)
        curs.execute(
            SQL("INSERT INTO {} (role_name) VALUES (%s) ON CONFLICT DO NOTHING").format(
                platform_table(ROLES_TABLE)
            ),
            (role,),
        )
        offices = office_schemas(curs)
        for schema in offices:
            for statement in office_grants(Identifier(schema), r):
                curs.execute(statement)
    warnings = [
        f"role '{role}' {what}: it is not a restricted role"
        for what, on in (
            ("is a superuser", found["rolsuper"]),
            ("may create databases", found["rolcreatedb"]),
            ("may create roles", found["rolcreaterole"]),
            ("may create schemas in this database", found["can_create"]),
        )
        if on
    ]
    return Granted(role, len(offices), tuple(warnings))


def read_tables_grant(r: Identifier) -> Composed:
    """The runtime role's rights on every table the read store has now (also those a blue/green
    upgrade moved in from another schema, where the default privileges did not apply)."""
    return SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(
        Identifier(READ_SCHEMA), r
    )


def grants(r: Identifier, database: str) -> list[SQL | Composed]:
    platform, read = Identifier(PLATFORM_SCHEMA), Identifier(READ_SCHEMA)
    return [
        SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(Identifier(database), r),
        SQL("GRANT USAGE ON SCHEMA {}, {} TO {}").format(platform, read, r),
        SQL("GRANT SELECT, INSERT, UPDATE ON {}, {} TO {}").format(
            platform_table(EVENTS_TABLE), platform_table("log_heads"), r
        ),
        SQL("GRANT SELECT ON {}, {}, {} TO {}").format(
            platform_table(MIGRATIONS_TABLE),
            platform_table(READ_DDL_TABLE),
            platform_table(ROLES_TABLE),
            r,
        ),
        SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(platform, r),
        read_tables_grant(r),
        SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(read, r),
        SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA {} "
            "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
        ).format(read, r),
        SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT USAGE, SELECT ON SEQUENCES TO {}").format(
            read, r
        ),
        SQL("GRANT EXECUTE ON FUNCTION {}(text) TO {}").format(platform_table(FUNCTION), r),
    ]


def office_grants(schema: Identifier, r: Identifier) -> list[SQL | Composed]:
    return [
        SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, r),
        SQL("GRANT SELECT, INSERT, UPDATE ON {}.{} TO {}").format(
            schema, Identifier(EVENTS_TABLE), r
        ),
        SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema, r),
    ]
