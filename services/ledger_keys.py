"""The offices' ledger keys: Ed25519 private keys in files (mode 0600) and their public halves
registered as events in the platform registry. May import: the standard library,
``services.registry``, ``services.errors``, the domain's values and ``services.tlog``.

Each office has two keys, made on first need: ``log`` signs its checkpoints (key name
``ducha/<office>``, C2SP signed-note type 0x01) and ``witness`` cosigns its subordinate
offices' checkpoints (key name ``ducha-witness/<office>``, ``cosignature/v1``). A key lives in
``<keys dir>/<office>.<purpose>.key`` (the keys dir: ``DUCHA_KEYS_DIR``, else
``DUCHA_DATA_DIR/keys``, made with mode 0700), holding the 32-byte seed in hex, created with
mode 0600 and refused if anyone but its owner may read it. A file is created under a temporary
name and linked into place, so two processes making the same key at once end with one key.
Its public key is registered (``Office.LogKeyRegistered``) when first used; rotating writes a
new file (the old one is kept as ``….<key id>.retired``) and registers the new key: signatures
by the old one stay verifiable, as the registry keeps every key an office had.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from pathlib import Path
from typing import Final

from domain.values import Actor
from services.errors import ServiceError
from services.registry import OfficeRegistry
from services.tlog.checkpoint import origin_for
from services.tlog.cosignature import Cosigner
from services.tlog.note import Signer, check_name

PURPOSES: Final = ("log", "witness")
LEDGER_ACTOR: Final = Actor("ledger", "platform", "system")


class KeyFileError(ServiceError):
    """A key file that is unsafe (readable by others) or unreadable."""


def witness_name(office: str) -> str:
    """The key name an office cosigns with: ``ducha-witness/<office>``."""
    return check_name(f"ducha-witness/{office}")


class KeyRing:
    """Loads, makes, registers and rotates the offices' ledger keys."""

    def __init__(self, directory: Path, registry: OfficeRegistry) -> None:
        self.directory = directory
        self.registry = registry
        self._seeds: dict[tuple[str, str], bytes] = {}
        self._lock = threading.Lock()

    def signer(self, office: str) -> Signer:
        """The office's checkpoint signer (made and registered on first need)."""
        return Signer.from_seed(origin_for(office), self._seed(office, "log"))

    def cosigner(self, office: str) -> Cosigner:
        """The office's witness key (made and registered on first need)."""
        return Cosigner.from_seed(witness_name(office), self._seed(office, "witness"))

    def vkey(self, office: str, purpose: str) -> str:
        if purpose == "log":
            return self.signer(office).vkey
        return self.cosigner(office).vkey

    def rotate(self, office: str, purpose: str) -> str:
        """A new key for ``purpose`` (the old file kept as retired), registered: its vkey."""
        self.registry.get(office)
        path = self.path(office, purpose)
        with self._lock:
            if path.exists():
                old = _read_seed(path)
                retired = path.with_name(f"{path.stem}.{old[:4].hex()}.retired")
                os.replace(path, retired)
            self._seeds.pop((office, purpose), None)
        return self.vkey(office, purpose)

    def path(self, office: str, purpose: str) -> Path:
        if purpose not in PURPOSES:
            raise ValueError(f"a key's purpose is log or witness, not {purpose!r}")
        return self.directory / f"{office}.{purpose}.key"

    def _seed(self, office: str, purpose: str) -> bytes:
        with self._lock:
            seed = self._seeds.get((office, purpose))
            if seed is None:
                self.registry.get(office)  # an unknown office gets no key
                seed = self._load_or_make(self.path(office, purpose))
                self._register(office, purpose, seed)
                self._seeds[(office, purpose)] = seed
            return seed

    def _load_or_make(self, path: Path) -> bytes:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():
            _make_key_file(path)
        return _read_seed(path)

    def _register(self, office: str, purpose: str, seed: bytes) -> None:
        """Register the key's public half unless it is the office's current key already."""
        if purpose == "log":
            vkey = Signer.from_seed(origin_for(office), seed).vkey
        else:
            vkey = Cosigner.from_seed(witness_name(office), seed).vkey
        known = self.registry.log_keys(office, purpose)
        if not known or known[-1].vkey != vkey:
            self.registry.register_log_key(LEDGER_ACTOR, office, purpose, vkey)


def _make_key_file(path: Path) -> None:
    """A fresh seed in a 0600 file, linked into place (a key made meanwhile wins)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as f:
            f.write(Signer.generate("ducha/new").seed.hex() + "\n")
        with contextlib.suppress(FileExistsError):  # made meanwhile: that one it is
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _read_seed(path: Path) -> bytes:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFileError(f"key file {path} may be read by others (mode {mode:04o}): chmod 600")
    try:
        seed = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (ValueError, UnicodeDecodeError) as e:
        raise KeyFileError(f"key file {path} does not hold a hex seed") from e
    if len(seed) != 32:
        raise KeyFileError(f"key file {path} does not hold a 32-byte seed")
    return seed
