"""tlog-witness ``add-checkpoint`` over real HTTP (``ducha serve``, as the other server tests
run it), asked by a client outside the platform: it reads gansu's log from the tile routes,
hashes it itself, signs checkpoints with gansu's key (as a log would) and asks gansu's superior
to cosign. The witness cosigns a consistent growth with a cosignature that verifies, answers
the spec's statuses to a stale size (409 with its size, ``text/x.tlog.size``), a smaller tree
(400), a fork and a bad proof (422), an unknown log (404) and a foreign signature (403), keeps
its state through every refusal, and raises an alert for each misbehaviour it saw."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from services.bootstrap import Platform, Settings, build_platform
from services.kafka.broker import free_port
from services.tlog.checkpoint import Checkpoint
from services.tlog.cosignature import CosignatureVerifier
from services.tlog.merkle import MemoryTree, consistency_proof
from services.tlog.note import Note, Signer, open_note
from services.tlog.tiles import split_hashes
from services.tlog.witness import Request, origin_hash
from services.users import UserDirectory
from tests.conftest import FixedClock
from tests.http.test_server import wait_until_up
from tests.scenario import ADMIN, build_hierarchy, new_item, person

WITNESS = "/witness/office/state-council"


def fetch(url: str, body: bytes | None = None, **headers: str) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    for name, value in headers.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read()


def add_events(p: Platform, items: int) -> None:
    for number in range(items):
        view = p.supervision.register_item(
            person("gansu", "supervisor"), "gansu", new_item(f"事项{number}")
        )
        p.supervision.act(person("gansu"), "gansu", view.id, "acknowledge")


@contextmanager
def serving(settings: Settings) -> Iterator[dict[str, Any]]:
    """gansu's log: 6 entries checkpointed and cosigned by state-council, then 4 more not yet;
    ``ducha serve`` over it."""
    p = build_platform(settings, clock=FixedClock("2026-03-02"))
    build_hierarchy(p)
    add_events(p, 3)
    p.ledger.checkpoints.checkpoint("gansu")
    add_events(p, 2)
    _, token = UserDirectory(p.registry, p.clock).add(ADMIN, "state-council", "admin", "管理员")
    witness_vkey = p.registry.log_keys("state-council", "witness")[-1].vkey
    keys = p.ledger.keys.path("gansu", "log")
    p.close()
    port = free_port()
    env = {**os.environ, "DUCHA_DATA_DIR": str(settings.data_dir), "DUCHA_CLOCK": "2026-03-03"}
    if settings.database_url:
        env["DUCHA_DATABASE_URL"] = settings.database_url
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "ducha"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base, server)
    try:
        yield {"base": base, "token": token, "witness": witness_vkey, "key": keys}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


class OutsideLog:
    """gansu's log as a client outside the platform sees it: its tiles, hashed here."""

    def __init__(self, base: str, key_file: Path) -> None:
        self.base = base
        seed = bytes.fromhex(key_file.read_text().strip())
        self.signer = Signer.from_seed("ducha/gansu", seed)
        status, _, note = fetch(f"{base}/log/gansu/checkpoint")
        assert status == 200
        self.cosigned = Checkpoint.parse(Note.parse(note).text).size
        size = 10
        status, _, tile = fetch(f"{base}/log/gansu/tile/0/000.p/{size}")
        assert status == 200, tile
        self.tree = MemoryTree(split_hashes(tile))

    def note(self, size: int, root: bytes | None = None, signer: Signer | None = None) -> bytes:
        text = Checkpoint("ducha/gansu", size, root or self.tree.root(size)).text
        return (signer or self.signer).note(text)

    def ask(
        self, old: int, note: bytes, proof: list[bytes] | None = None
    ) -> tuple[int, str, bytes]:
        size = Checkpoint.parse(Note.parse(note).text).size
        if proof is None:
            proof = consistency_proof(old, size, self.tree) if 0 < old < size else []
        body = Request.make(old, proof, note).encode()
        return fetch(f"{self.base}{WITNESS}/add-checkpoint", body)

    def witnessed(self) -> int:
        hashed = origin_hash("ducha/gansu")
        status, _, note = fetch(f"{self.base}{WITNESS}/{hashed}/checkpoint")
        assert status == 200
        return Checkpoint.parse(Note.parse(note).text).size


@pytest.fixture
def server(settings: Settings) -> Iterator[dict[str, Any]]:
    with serving(settings) as running:
        yield running


def alerts(server: dict[str, Any]) -> int:
    url = f"{server['base']}/api/v1/admin/ledger-alerts"
    status, _, body = fetch(url, Authorization=f"Bearer {server['token']}")
    assert status == 200
    count: int = json.loads(body)["count"]
    return count


def test_an_outside_client_gets_cosignatures_and_every_refusal_keeps_the_state(
    server: dict[str, Any],
) -> None:
    log = OutsideLog(server["base"], server["key"])
    assert log.cosigned == 6 and log.witnessed() == 6
    # a client that does not know the witness's size learns it
    status, kind, body = log.ask(0, log.note(10))
    assert (status, kind, body) == (409, "text/x.tlog.size", b"6\n")
    # a consistent growth is cosigned, by the superior's witness key
    status, kind, body = log.ask(6, log.note(10))
    assert status == 200 and kind.startswith("text/plain"), body
    assert body.startswith("— ducha-witness/state-council ".encode()) and body.endswith(b"\n")
    witness = CosignatureVerifier.from_vkey(server["witness"])
    cosigned = open_note(log.note(10) + body, [log.signer.verifier, witness])
    assert cosigned.signed_by(witness)
    assert log.witnessed() == 10 and alerts(server) == 0
    refusals = [
        (log.ask(10, log.note(8)), 400),  # a smaller tree
        (log.ask(8, log.note(10)), 409),  # a stale size
        (log.ask(10, log.note(10, root=bytes(32))), 422),  # a fork: another root at 10
        (log.ask(10, log.note(10, root=log.tree.root(9))), 422),
    ]
    for (status, _, body), expected in refusals:
        assert status == expected, body
        assert log.witnessed() == 10  # the state stays
    assert alerts(server) == 3  # smaller, and the two forks; a stale size is no misbehaviour
    # an inconsistent proof: a larger tree whose proof does not lead from the state's root
    bigger = MemoryTree([*(log.tree(0, i) for i in range(10)), bytes(32)])
    bad = log.note(11, root=bigger.root(11))
    status, _, body = log.ask(10, bad, proof=[bytes(32)] * 3)
    assert status == 422 and b"consistency" in body
    assert log.witnessed() == 10 and alerts(server) == 4
    # the log's key name with another key: no trusted signature, 403
    stranger = Signer.generate("ducha/gansu")
    assert log.ask(10, log.note(10, signer=stranger))[0] == 403
    # a log this witness does not follow (its grandchild), 404
    other = Signer.generate("ducha/baiyin")
    note = other.note(Checkpoint("ducha/baiyin", 1, bytes(32)).text)
    assert (
        fetch(f"{server['base']}{WITNESS}/add-checkpoint", Request.make(0, [], note).encode())[0]
        == 404
    )
    # the public site follows no office that does not publish
    status, _, _ = fetch(
        f"{server['base']}/witness/public/add-checkpoint", Request.make(6, [], log.note(6)).encode()
    )
    assert status == 404
    assert log.witnessed() == 10 and alerts(server) == 4
