"""``ducha projections upgrade``: a projection's new version built beside the live one and
switched in, while the installation keeps serving (blue/green, ``projections.runner.upgrade``).
May import: the standard library, psycopg's SQL composition and errors, ``projections`` (read
stores, runner) and ``services`` (bootstrap, errors, stores' provisioning names and grants).

Beside the live read store means: PostgreSQL, the schema ``ducha_read_next`` in the same
database (made afresh; the upgrade therefore needs a role that may create schemas, the owner
role that runs ``ducha migrate``); SQLite, the file ``read.next.sqlite`` next to
``read.sqlite``. On PostgreSQL the switched tables are granted to the runtime roles that
``ducha migrate --grant-to`` recorded, as the tables it makes are.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from psycopg.errors import InsufficientPrivilege
from psycopg.sql import Identifier

from projections.readstore import PostgresReadStore, ReadStore, SQLiteReadStore, Tx
from projections.runner.upgrade import Upgraded, UpgradeError, upgrade
from services.bootstrap import Platform
from services.errors import ServiceError
from services.stores.pggrants import read_tables_grant
from services.stores.pgprovision import ROLES_TABLE
from services.stores.pgschema import PLATFORM_SCHEMA

BESIDE_SCHEMA = "ducha_read_next"
BESIDE_FILE = "read.next.sqlite"
AS_OWNER = (
    "a projection upgrade makes a schema beside the read store: run it as the owner role "
    "(docker compose -f deploy/compose.yaml run --rm migrate projections upgrade)"
)


def outdated(platform: Platform) -> list[str]:
    """The projections whose rows another version than this process's built."""
    return sorted(platform.runner.other_version(platform.runner.stored_versions()))


def upgrade_projections(
    platform: Platform, names: list[str], progress: Callable[[int], None] | None = None
) -> Upgraded:
    """Build ``names`` beside the live read store, catch up, switch (see the module). A role
    that may not make the schema beside (the runtime role) is told, in one line, to run it
    as the owner."""
    try:
        return upgraded(platform, names, progress)
    except InsufficientPrivilege as e:
        raise ServiceError(f"{e.diag.message_primary or 'permission denied'}: {AS_OWNER}") from None


def upgraded(
    platform: Platform, names: list[str], progress: Callable[[int], None] | None
) -> Upgraded:
    beside = beside_store(platform)
    try:
        grant = grant_runtime_roles if isinstance(platform.read, PostgresReadStore) else None
        done = upgrade(platform.runner, beside, names, progress, grant)
    except UpgradeError as e:
        discard(platform, beside)
        raise ServiceError(str(e)) from e
    except BaseException:
        discard(platform, beside)
        raise
    if isinstance(beside, SQLiteReadStore):  # switched: its rows were copied in
        remove_sqlite(Path(beside.path))
    platform.runner.catch_up_all()  # what followed the last catch-up beside, now live
    return done


def beside_store(platform: Platform) -> ReadStore:
    read = platform.read
    if isinstance(read, PostgresReadStore):
        with read.transaction() as tx:  # a store left by an upgrade that did not finish
            tx.execute(f"DROP SCHEMA IF EXISTS {BESIDE_SCHEMA} CASCADE")
        return PostgresReadStore(read.pool, None, BESIDE_SCHEMA)
    path = platform.settings.data_dir / BESIDE_FILE
    remove_sqlite(path)
    return SQLiteReadStore(path)


def discard(platform: Platform, beside: ReadStore) -> None:
    """The store beside, after a failed upgrade: the live one is as it was."""
    if isinstance(beside, PostgresReadStore):
        with platform.read.transaction() as tx:
            tx.execute(f"DROP SCHEMA IF EXISTS {BESIDE_SCHEMA} CASCADE")
        return
    beside.close()
    if isinstance(beside, SQLiteReadStore):
        remove_sqlite(Path(beside.path))


def remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def grant_runtime_roles(tx: Tx) -> None:
    """The rights ``ducha migrate --grant-to`` gives on the read store's tables, again: the
    tables just switched in were made in another schema, where no default privileges apply."""
    known = tx.all(
        "SELECT to_regclass(?) IS NOT NULL AS kept", (f"{PLATFORM_SCHEMA}.{ROLES_TABLE}",)
    )
    if not known or not known[0]["kept"]:
        return  # never migrated: the one role there owns everything
    conn = tx.conn  # type: ignore[attr-defined]
    for row in tx.all(f"SELECT role_name FROM {PLATFORM_SCHEMA}.{ROLES_TABLE}"):
        conn.execute(read_tables_grant(Identifier(row["role_name"])))
