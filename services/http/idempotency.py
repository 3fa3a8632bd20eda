"""``Idempotency-Key`` on POST: a retry with the same key and body gets the first response and
records nothing new; the same key with another body is refused (422). May import: the standard
library, Flask and ``projections.readstore`` (the keys live in the read store's database).

Keys are kept per user in the read store's database (not a projection: rebuilds leave them).
A key whose first request is still running answers 409; a request that failed with 5xx frees
its key so that it can be retried. A claim is a lease: a process killed in the middle of a
request never stores its answer, so a claim older than the lease (a few seconds past the
server's request timeout) is taken over by the next retry, which then finds the outcome the
first attempt recorded, if any, instead of doing the work again (see ``app``).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Response

from projections.readstore import ReadStore

DDL = """
CREATE TABLE IF NOT EXISTS idempotency (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    headers TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
)
"""
PENDING = 0
MAX_KEY = 200
LEASE_SECONDS = 40.0
"""How long a claim holds: the server's request timeout (30 s) and some."""


@dataclass(frozen=True)
class Stored:
    fingerprint: str
    status: int
    body: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Claim:
    """The key is this request's. ``resumed_from``: when an earlier attempt, whose answer was
    never stored (its process died), claimed it."""

    resumed_from: datetime | None = None


def fingerprint(method: str, path: str, body: bytes) -> str:
    try:  # the same JSON, however spaced or ordered, is the same request
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


class IdempotencyKeys:
    def __init__(self, read: ReadStore, lease_seconds: float = LEASE_SECONDS) -> None:
        self.read = read
        self.lease = timedelta(seconds=lease_seconds)
        read.ensure(DDL)

    def claim(self, user_id: str, key: str, print_: str) -> Claim | Stored:
        """Claim ``key`` for this request, or return what is stored for it: the first
        response, or a pending mark while the first request runs (in any process). A pending
        claim past its lease, for the same request, is taken over."""
        mark = "pending:" + secrets.token_hex(8)
        now = datetime.now(UTC)
        with self.read.transaction() as tx:
            tx.execute(
                "INSERT INTO idempotency (user_id, key, fingerprint, status, body, headers, "
                "created_at) VALUES (?, ?, ?, ?, ?, '{}', ?) ON CONFLICT (user_id, key) DO NOTHING",
                (user_id, key, print_, PENDING, mark, now.isoformat()),
            )
            row = tx.one(
                "SELECT fingerprint, status, body, headers, created_at FROM idempotency "
                "WHERE user_id = ? AND key = ?",
                (user_id, key),
            )
            assert row is not None
            if row["status"] == PENDING and row["body"] == mark:
                return Claim()
            claimed_at = datetime.fromisoformat(row["created_at"])
            expired = row["status"] == PENDING and now - claimed_at > self.lease
            if expired and row["fingerprint"] == print_:
                tx.execute(  # compare and set: of retries racing, one takes it over
                    "UPDATE idempotency SET body = ?, created_at = ? "
                    "WHERE user_id = ? AND key = ? AND body = ?",
                    (mark, now.isoformat(), user_id, key, row["body"]),
                )
                taken = tx.one(
                    "SELECT body FROM idempotency WHERE user_id = ? AND key = ?", (user_id, key)
                )
                if taken is not None and taken["body"] == mark:
                    return Claim(resumed_from=claimed_at)
        return Stored(
            row["fingerprint"], int(row["status"]), row["body"], json.loads(row["headers"])
        )

    def store(self, user_id: str, key: str, response: Response) -> None:
        keep = {
            k: v for k, v in response.headers.items() if k in ("ETag", "Location", "Content-Type")
        }
        with self.read.transaction() as tx:
            tx.execute(
                "UPDATE idempotency SET status = ?, body = ?, headers = ? "
                "WHERE user_id = ? AND key = ?",
                (
                    response.status_code,
                    response.get_data(as_text=True),
                    json.dumps(keep),
                    user_id,
                    key,
                ),
            )

    def release(self, user_id: str, key: str) -> None:
        with self.read.transaction() as tx:
            tx.execute("DELETE FROM idempotency WHERE user_id = ? AND key = ?", (user_id, key))
