"""Helpers of the ledger's integration tests: a populated office, and raw access to its event
store for the tamper drills (what someone with database access could do, bypassing Ducha)."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from typing import Any

import psycopg

from services.bootstrap import Platform
from services.stores import PostgresBackend
from tests.conftest import FixedClock
from tests.scenario import new_item, person


def populate(p: Platform, clock: FixedClock, office: str = "gansu", items: int = 4) -> None:
    """Items registered, progress reported and urged: a few events of several kinds, each
    item naming a responsible person (a personal field)."""
    for number in range(items):
        clock.now += timedelta(minutes=5)
        view = p.supervision.register_item(
            person(office), office, new_item(f"事项{number}", responsible_person=f"张{number}")
        )
        p.supervision.act(person(office), office, view.id, "acknowledge")
        p.supervision.act(
            person(office), office, view.id, "report-progress", text="进展", percent=10
        )
        if number % 2:
            p.supervision.act(person(office, "leader"), office, view.id, "urge", message="请加快")


class Raw:
    """One office's stored events, read and changed under Ducha's feet."""

    def __init__(self, p: Platform, office: str) -> None:
        self.postgres = isinstance(p.backend, PostgresBackend)
        if self.postgres:
            assert p.settings.database_url
            self.pg = psycopg.connect(p.settings.database_url, autocommit=True)
            self.table = f"{PostgresBackend.schema(office)}.stored_events"
            self.id = "notification_id"
        else:
            path = p.settings.data_dir / "offices" / f"{office}.sqlite"
            self.lite = sqlite3.connect(str(path), isolation_level=None, timeout=30)
            self.table, self.id = "stored_events", "rowid"

    def run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.postgres:
            cursor = self.pg.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []
        return self.lite.execute(sql, params).fetchall()

    def rows(self) -> list[tuple[int, str, int, str, bytes]]:
        found = self.run(
            f"SELECT {self.id}, originator_id, originator_version, topic, state "
            f"FROM {self.table} ORDER BY {self.id}"
        )
        return [(int(r[0]), str(r[1]), int(r[2]), str(r[3]), bytes(r[4])) for r in found]

    def ids(self) -> list[int]:
        return [row[0] for row in self.rows()]

    def set_state(self, notification: int, state: bytes) -> None:
        self.run(f"UPDATE {self.table} SET state = ? WHERE {self.id} = ?", (state, notification))

    def flip_byte(self, notification: int, at: int, mask: int = 0x01) -> None:
        state = bytearray(next(r[4] for r in self.rows() if r[0] == notification))
        state[at % len(state)] ^= mask or 0x01
        self.set_state(notification, bytes(state))

    def delete(self, notification: int) -> None:
        self.run(f"DELETE FROM {self.table} WHERE {self.id} = ?", (notification,))

    def truncate(self, keep: int) -> None:
        self.run(f"DELETE FROM {self.table} WHERE {self.id} > ?", (keep,))

    def swap(self, a: int, b: int) -> None:
        """Events ``a`` and ``b`` change places in the log."""
        rows = {r[0]: r for r in self.rows()}
        ra, rb = rows[a], rows[b]
        self.delete(a)
        self.delete(b)
        self.insert(a, rb)
        self.insert(b, ra)

    def insert(self, notification: int, row: tuple[int, str, int, str, bytes]) -> None:
        self.run(
            f"INSERT INTO {self.table} ({self.id}, originator_id, originator_version, topic, "
            "state) VALUES (?, ?, ?, ?, ?)",
            (notification, row[1], row[2], row[3], row[4]),
        )

    def rewrite(self, notification: int) -> None:
        """Another, well-formed history: the event's texts changed, re-encoded as the store
        encodes (it still decodes)."""
        state = json.loads(next(r[4] for r in self.rows() if r[0] == notification))
        texts = [k for k, v in state.items() if isinstance(v, str) and k != "originator_topic"]
        key = texts[0] if texts else "rewritten"
        state[key] = f"{state.get(key, '')}（改）"
        encoded = json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode()
        self.set_state(notification, encoded)

    def restore(self, rows: list[tuple[int, str, int, str, bytes]]) -> None:
        self.run(f"DELETE FROM {self.table}")
        for row in rows:
            self.insert(row[0], row)

    def close(self) -> None:
        if self.postgres:
            self.pg.close()
        else:
            self.lite.close()
