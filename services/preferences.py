"""People's preferences (the language of the screens), remembered per user in the read store.

Not history: a preference is a setting, not a fact an auditor replays, so it lives in the
read store (``user_preferences``) and never in an event store. May import: the standard
library and ``projections.readstore``.
"""

from __future__ import annotations

from projections.readstore import ReadStore

DDL = """
CREATE TABLE IF NOT EXISTS user_preferences (
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (user_id, name)
)
"""


class Preferences:
    def __init__(self, read: ReadStore) -> None:
        self.read = read
        read.ensure(DDL)

    def get(self, user_id: str, name: str) -> str | None:
        rows = self.read.all(
            "SELECT value FROM user_preferences WHERE user_id = ? AND name = ?", (user_id, name)
        )
        return str(rows[0]["value"]) if rows else None

    def set(self, user_id: str, name: str, value: str) -> None:
        with self.read.transaction() as tx:
            tx.execute(
                "INSERT INTO user_preferences (user_id, name, value) VALUES (?, ?, ?) "
                "ON CONFLICT (user_id, name) DO UPDATE SET value = excluded.value",
                (user_id, name, value),
            )
