"""What a reviewer found wrong with ``ducha backup`` / ``ducha restore`` (issue 17 §3), each
tested where it happens (PostgreSQL real):

- a backup of an older version (its marker and recorded read-side DDL older than the code's)
  restores: the restore provisions as ``ducha migrate`` does before the rebuild, and the
  restored office function is not executable by ``PUBLIC``;
- the database password never reaches ``pg_dump``/``pg_restore``'s command line;
- nothing in a backup is readable by others (directories 0700, files 0600), and the umask is
  given back;
- an event recorded before the backup whose subject's key the tlog projection made only after
  the read store's copy keeps its leaf through a restore;
- a PostgreSQL restore that fails leaves no holiday data and no keys behind: the retry works;
- the runbook's procedure, with an owner role (no superuser) and a runtime role: restore as the
  owner into a database it owns, the runtime role may do nothing until ``migrate --grant-to``,
  then runs the restored platform and registers an office.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import psycopg
import pytest

import services.backup.postgres as pgbackup
import services.backup.run as run
from services.backup import BackupError, back_up, restore
from services.bootstrap import Settings, build_platform
from services.calendar import DEFAULT_DATA_FILE
from services.provision import migrate
from services.stores import pgprovision
from tests.backends.test_backup_refusals import empty_target
from tests.conftest import FixedClock, fresh_database, with_database
from tests.scenario import ADMIN, build_hierarchy, new_item, person

NEWCOMER = "欧阳新来"  # named by no scenario: the tlog projection has no key for them yet


def with_password(url: str, secret: str, user: str | None = None) -> str:
    parts = urlsplit(url)
    user = user or parts.username or "postgres"
    host = parts.netloc.rsplit("@", 1)[-1] if "@" in parts.netloc else parts.netloc
    return urlunsplit(parts._replace(netloc=f"{user}:{secret}@{host}"))


def seeded(settings: Settings) -> None:
    platform = build_platform(settings, clock=FixedClock())
    try:
        build_hierarchy(platform)
        platform.supervision.register_item(person("gansu", "supervisor"), "gansu", new_item())
    finally:
        platform.close()


def tlog_rows(settings: Settings, office: str) -> dict[str, list[tuple[Any, ...]]]:
    platform = build_platform(settings, clock=FixedClock())
    try:
        return {
            table: sorted(
                (tuple(bytes(v) if isinstance(v, memoryview) else v for v in r.values()))
                for r in platform.read.all(f"SELECT * FROM {table} WHERE office = ?", [office])
            )
            for table in ("tlog_edge", "tlog_tiles", "tlog_heads")
        }
    finally:
        platform.close()


def subject_key(settings: Settings, subject: str) -> bytes | None:
    platform = build_platform(settings, clock=FixedClock())
    try:
        rows = platform.read.all(
            "SELECT secret FROM tlog_subject_keys WHERE subject = ?", [subject]
        )
        return bytes(rows[0]["secret"]) if rows else None
    finally:
        platform.close()


@pytest.mark.postgres
def test_a_backup_of_an_older_version_restores_and_rebuilds(
    pg_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    source = Settings(data_dir=tmp_path / "var", database_url=pg_url)
    seeded(source)
    migrate(source)
    with psycopg.connect(pg_url, autocommit=True) as conn:  # as an older version left it
        dropped = conn.execute(
            "DELETE FROM ducha_platform.read_ddl WHERE statement LIKE '%tlog%'"
        ).rowcount
    assert dropped > 0
    back_up(source, tmp_path / "backup")
    with empty_target(source, request) as target:
        restore(target, tmp_path / "backup", jobs=2)
        assert target.database_url
        with psycopg.connect(target.database_url) as conn:
            known = {str(r[0]) for r in conn.execute("SELECT digest FROM ducha_platform.read_ddl")}
            marker = conn.execute("SELECT max(version) FROM ducha_platform.migrations").fetchone()
            public = conn.execute(
                "SELECT count(*) FROM pg_proc p, aclexplode(coalesce(p.proacl, "
                "acldefault('f', p.proowner))) a WHERE p.oid = to_regprocedure(%s) "
                "AND a.grantee = 0 AND a.privilege_type = 'EXECUTE'",
                (pgbackup.OFFICE_FUNCTION,),
            ).fetchone()
        with psycopg.connect(pg_url) as conn:
            wanted = {str(r[0]) for r in conn.execute("SELECT digest FROM ducha_platform.read_ddl")}
        assert wanted < known  # what the older backup lacked is recorded again
        assert marker == (pgprovision.STORE_VERSION,)
        assert public == (0,), "PUBLIC may execute the restored SECURITY DEFINER function"
        platform = build_platform(target, clock=FixedClock())  # a migrated process starts
        try:
            assert platform.read.all("SELECT count(*) AS n FROM items")[0]["n"] > 0
        finally:
            platform.close()


@pytest.mark.postgres
def test_the_password_is_in_the_environment_not_on_the_command_line(
    pg_url: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "pw-7c1e9a-not-in-argv"  # the test server trusts: libpq is given it, unasked
    source = Settings(data_dir=tmp_path / "var", database_url=with_password(pg_url, secret))
    seeded(source)
    seen: list[tuple[list[str], dict[str, str]]] = []
    real = subprocess.Popen

    def spying(command: list[str], **kwargs: Any) -> Any:
        if any(arg.startswith("--dbname") for arg in command):  # not a --version
            seen.append((list(command), dict(kwargs.get("env") or os.environ)))
        return real(command, **kwargs)

    monkeypatch.setattr(pgbackup.subprocess, "Popen", spying)
    back_up(source, tmp_path / "backup")
    with empty_target(Settings(data_dir=tmp_path / "var", database_url=pg_url), request) as t:
        assert t.database_url
        restore(replace(t, database_url=with_password(t.database_url, secret)), tmp_path / "backup")
    tools = [Path(argv[0]).name for argv, _ in seen]
    assert tools == ["pg_dump", "pg_restore"]
    for argv, env in seen:
        assert not any(secret in arg for arg in argv), argv
        assert env["PGPASSWORD"] == secret


def test_nothing_in_a_backup_is_readable_by_others(settings: Settings, tmp_path: Path) -> None:
    holidays = tmp_path / "etc" / "holidays.json"
    holidays.parent.mkdir()
    shutil.copyfile(DEFAULT_DATA_FILE, holidays)
    holidays.chmod(0o644)
    source = replace(settings, holidays_file=holidays)
    seeded(source)
    platform = build_platform(source, clock=FixedClock())
    try:
        platform.ledger.checkpoints.checkpoint("gansu")  # keys to copy
    finally:
        platform.close()
    before = os.umask(0o022)
    try:
        back_up(source, tmp_path / "backup")
        assert os.umask(0o022) == 0o022  # given back
    finally:
        os.umask(before)
    root = tmp_path / "backup"
    found = [root, *root.rglob("*")]
    assert len([p for p in found if p.is_file()]) >= 5
    for path in found:
        want = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.stat().st_mode) == want, path


def test_a_subject_key_made_after_the_read_store_copy_keeps_its_leaf(
    settings: Settings,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seeded(settings)
    platform = build_platform(settings, clock=FixedClock())
    try:
        platform.supervision.listeners.clear()  # the consumers detached: recorded, not applied
        platform.supervision.register_item(
            person("gansu", "supervisor"), "gansu", new_item(responsible_person=NEWCOMER)
        )
    finally:
        platform.close()
    assert subject_key(settings, NEWCOMER) is None

    def then_applied(real: Callable[..., Any]) -> Callable[..., Any]:
        def copied(*args: Any) -> Any:
            result = real(*args)  # the stores copied: the event in, its key not
            late = build_platform(settings, clock=FixedClock())
            try:
                late.runner.catch_up_all()  # the tlog projection applies it now
            finally:
                late.close()
            return result

        return copied

    monkeypatch.setattr(run, "back_up_sqlite", then_applied(run.back_up_sqlite))
    monkeypatch.setattr(run, "back_up_postgres", then_applied(run.back_up_postgres))
    back_up(settings, tmp_path / "backup")
    made = subject_key(settings, NEWCOMER)
    assert made is not None
    with empty_target(settings, request) as target:
        restore(target, tmp_path / "backup")
        assert subject_key(target, NEWCOMER) == made
        assert tlog_rows(target, "gansu") == tlog_rows(settings, "gansu")


@pytest.mark.postgres
def test_a_failed_postgres_restore_leaves_nothing_behind_and_the_retry_works(
    pg_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    holidays = tmp_path / "etc" / "holidays.json"
    holidays.parent.mkdir()
    shutil.copyfile(DEFAULT_DATA_FILE, holidays)
    source = Settings(data_dir=tmp_path / "var", database_url=pg_url, holidays_file=holidays)
    seeded(source)
    platform = build_platform(source, clock=FixedClock())
    try:
        platform.ledger.checkpoints.checkpoint("gansu")
    finally:
        platform.close()
    good, bad = tmp_path / "backup", tmp_path / "damaged"
    manifest = back_up(source, good)
    shutil.copytree(good, bad)
    dump = bad / pgbackup.DUMP
    dump.write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])  # cut short, then
    manifest.write(bad)  # checksummed again: pg_restore is what fails
    with empty_target(source, request) as target:
        target = replace(target, holidays_file=tmp_path / "calendar" / "holidays.json")
        with pytest.raises(BackupError, match="pg_restore failed"):
            restore(target, bad)
        assert target.holidays_file and not target.holidays_file.exists()
        keys = target.data_dir / "keys"
        assert not keys.exists() or not any(keys.iterdir())
        restore(target, good)  # the retry, into the same place
        assert target.holidays_file.read_bytes() == holidays.read_bytes()
        assert sorted(p.name for p in keys.iterdir()) == sorted(
            p.name for p in (good / "keys").iterdir()
        )


@pytest.fixture
def owned(pg_server_url: str) -> Iterator[tuple[str, str, str, str]]:
    """As ``deploy/``: an owner role (no superuser) owning two databases, the source and an
    empty one to restore into, and a runtime role: the owner's DSNs, the runtime role's name
    and its DSN on the restored database."""
    suffix = uuid4().hex[:10]
    owner, app = f"own_{suffix}", f"app_{suffix}"
    source, target = f"src_{suffix}", f"dst_{suffix}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {owner} LOGIN NOSUPERUSER NOCREATEDB PASSWORD 'pw-{owner}'")
        conn.execute(f"CREATE ROLE {app} LOGIN NOSUPERUSER NOCREATEDB PASSWORD 'pw-{app}'")
        for db in (source, target):
            conn.execute(f'CREATE DATABASE "{db}" OWNER {owner}')  # the runbook's step 3
            conn.execute(f'REVOKE ALL ON DATABASE "{db}" FROM PUBLIC')
    try:
        yield (
            as_role(with_database(pg_server_url, source), owner),
            as_role(with_database(pg_server_url, target), owner),
            app,
            as_role(with_database(pg_server_url, target), app),
        )
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            for db in (source, target):
                conn.execute(f'DROP DATABASE "{db}" WITH (FORCE)')
            conn.execute(f"DROP ROLE {app}")
            conn.execute(f"DROP ROLE {owner}")


def as_role(url: str, role: str) -> str:
    return with_password(url, f"pw-{role}", role)


def cli(url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DUCHA_DATABASE_URL=url, DUCHA_DATA_DIR=str(data_dir))
    command = [str(Path(sys.executable).parent / "ducha"), *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.mark.postgres
def test_the_runbooks_restore_works_with_the_owner_and_runtime_roles(
    owned: tuple[str, str, str, str], tmp_path: Path
) -> None:
    source, target, app, app_on_target = owned
    cli(source, tmp_path / "var", "migrate", "--grant-to", app)
    live = Settings(data_dir=tmp_path / "var", database_url=source)
    seeded(live)
    cli(source, tmp_path / "var", "backup", "--to", str(tmp_path / "backup"))
    restored = cli(target, tmp_path / "new", "restore", "--from", str(tmp_path / "backup"),
                   "--jobs", "2")  # fmt: skip
    assert "ducha migrate --grant-to" in restored.stdout
    with psycopg.connect(target) as conn:
        may = conn.execute(
            "SELECT has_function_privilege(%s, %s, 'EXECUTE')", (app, pgbackup.OFFICE_FUNCTION)
        ).fetchone()
    assert may == (False,), "the runtime role may provision offices before migrate grants it"
    cli(target, tmp_path / "new", "migrate", "--grant-to", app)  # the runbook's step 6
    runtime = Settings(data_dir=tmp_path / "new", database_url=app_on_target)
    platform = build_platform(runtime, clock=FixedClock())
    try:
        items = platform.read.all("SELECT id, title FROM items ORDER BY id")
        platform.registry.register(
            ADMIN, "qinghai", "青海省人民政府办公厅", "province", "state-council"
        )
        platform.supervision.register_item(person("qinghai", "supervisor"), "qinghai", new_item())
    finally:
        platform.close()
    assert items == rows_of(live, "SELECT id, title FROM items ORDER BY id")


def rows_of(settings: Settings, query: str) -> list[Any]:
    platform = build_platform(settings, clock=FixedClock())
    try:
        return platform.read.all(query)
    finally:
        platform.close()


@pytest.mark.postgres
def test_a_database_the_restoring_role_may_not_create_in_is_refused_first(
    owned: tuple[str, str, str, str], pg_server_url: str, tmp_path: Path
) -> None:
    source, _, app, _ = owned
    seeded(Settings(data_dir=tmp_path / "var", database_url=source))
    back_up(Settings(data_dir=tmp_path / "var", database_url=source), tmp_path / "backup")
    with fresh_database(pg_server_url) as url:  # made by the superuser, without OWNER
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'GRANT CONNECT ON DATABASE "{urlsplit(url).path[1:]}" TO {app}')
        target = Settings(data_dir=tmp_path / "new", database_url=with_password(url, "x", app))
        with pytest.raises(BackupError, match=f"role {app} may not create schemas .* OWNER {app}"):
            restore(target, tmp_path / "backup")
        assert not target.data_dir.exists()
