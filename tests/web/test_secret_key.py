"""The key that signs session cookies: made once beside the data, the same for every worker
that starts at once, readable by its owner only; or given by ``DUCHA_SECRET_KEY``."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from services.web import secret_key


def test_workers_starting_at_once_share_one_key(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: secret_key(tmp_path / "var"), range(16)))
    assert len(keys) == 1 and len(keys.pop()) >= 48
    path = tmp_path / "var" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in (tmp_path / "var").iterdir()) == ["secret_key"]  # no leftovers


def test_a_given_key_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUCHA_SECRET_KEY", "给定的密钥-0123456789")
    assert secret_key(tmp_path) == "给定的密钥-0123456789"
    assert not (tmp_path / "secret_key").exists()
