"""What a backup holds and how it is checked: ``MANIFEST.json`` (when, which backend, each office's
last notification id at the backup's point, every file's SHA-256, the Ducha version) and the
copying of the files beside the stores (the holiday data, the ledger's private keys). May import:
the standard library, orjson and ``domain.values`` (China time).

Private keys are copied with mode 0600 into a 0700 directory, whatever the umask: a backup is
as secret as the keys directory it came from, and ``services.ledger_keys`` refuses a key file
others may read, so a restored key must keep that mode too.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

from domain.values import CHINA_TZ

MANIFEST = "MANIFEST.json"
FORMAT = 1
KEYS = "keys"
HOLIDAYS = "holidays"


class BackupError(Exception):
    """A backup or restore that cannot go on: the one line the command prints."""


@dataclass
class Manifest:
    """``offices``: code → last notification id; ``registry``: the platform store's last id;
    ``files``: path under the backup → SHA-256; ``holidays``: the data file's name, if any."""

    backend: str
    created_at: str = ""
    ducha_version: str = ""
    format: int = FORMAT
    registry: int = 0
    offices: dict[str, int] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    holidays: str | None = None
    seconds: float = 0.0
    notes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def begun(cls, backend: str) -> Manifest:
        return cls(backend, datetime.now(CHINA_TZ).isoformat(timespec="seconds"), version())

    def write(self, root: Path) -> None:
        self.files = {str(p.relative_to(root)): sha256(p) for p in files_under(root)}
        text = json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True)
        (root / MANIFEST).write_text(text + "\n", encoding="utf-8")

    @classmethod
    def read(cls, root: Path) -> Manifest:
        path = root / MANIFEST
        if not path.is_file():
            raise BackupError(f"{root} is not a Ducha backup (no {MANIFEST})")
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            manifest = cls(**data)
        except (ValueError, TypeError) as e:
            raise BackupError(f"{path} is not a readable manifest: {e}") from None
        if manifest.format != FORMAT:
            raise BackupError(f"{path} has format {manifest.format}; this Ducha reads {FORMAT}")
        return manifest

    def verify(self, root: Path) -> None:
        """Every file the manifest names is there with its checksum, and no other."""
        found = {str(p.relative_to(root)) for p in files_under(root)}
        missing = sorted(set(self.files) - found)
        extra = sorted(found - set(self.files))
        if missing or extra:
            raise BackupError(f"backup {root} is incomplete: missing {missing}, unexpected {extra}")
        for name, digest in sorted(self.files.items()):
            if sha256(root / name) != digest:
                raise BackupError(f"backup file {root / name} does not match its checksum")


def registered_codes(states: Iterable[bytes]) -> list[str]:
    """The codes of the offices whose registrations' stored states these are, in order (the
    registry's own shortcut, ``OfficeRegistry._registered``: the code is in the JSON)."""
    try:
        return [str(orjson.loads(state)["code"]) for state in states]
    except (ValueError, KeyError, TypeError) as e:
        raise BackupError(f"a registration in the registry cannot be read: {e}") from None


def version() -> str:
    try:
        return metadata.version("ducha")
    except metadata.PackageNotFoundError:
        return "unknown"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def files_under(root: Path) -> list[Path]:
    """Every regular file below ``root`` but the manifest, sorted."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST)


def is_empty(path: Path) -> bool:
    """A directory that does not exist yet, or holds nothing."""
    if not path.exists():
        return True
    return path.is_dir() and not any(path.iterdir())


def copy_private(source: Path, target: Path) -> None:
    """Copy one secret file: created 0600 (never readable by others, not even for a moment)."""
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out, source.open("rb") as given:
        shutil.copyfileobj(given, out)
        out.flush()
        os.fsync(out.fileno())


def copy_keys(source: Path, target: Path) -> int:
    """The keys directory's files (current and retired keys; not a key being made, whose name
    starts with a dot), each 0600 in a 0700 directory: how many."""
    if not source.is_dir():
        return 0
    copied = 0
    for path in sorted(source.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            copy_private(path, target / path.name)
            copied += 1
    if copied:
        target.chmod(0o700)
    return copied


def copy_holidays(source: Path | None, root: Path) -> str | None:
    """The holiday data file operators extend (``DUCHA_HOLIDAYS_FILE``), if one is set: its
    name in the backup. Without one the shipped data is used, which the code carries."""
    if source is None:
        return None
    if not source.is_file():
        raise BackupError(f"DUCHA_HOLIDAYS_FILE {source} is not a file")
    (root / HOLIDAYS).mkdir()
    shutil.copyfile(source, root / HOLIDAYS / source.name)  # its mode: the umask's
    return source.name
