"""The public site's witness key: the second witness of the offices that publish. May import: the
standard library, ``services.ledger_keys`` (its key-file helpers) and ``services.tlog``.

The public site cosigns, after the superior office, the checkpoints of every office that has a
published record, as ``cosignature/v1`` under the key name ``public-witness`` (no office's
witness is named so: theirs are ``ducha-witness/<office>``). Its private key is a file like the
offices' keys — ``<keys dir>/public-witness.key``, a hex seed, mode 0600, made on first need,
refused if others may read it — and is not an office's, so it is not registered in the
registry: the policy (``ducha ledger policy``) and the screens read its public half from here.
Rotating it is replacing the file (cosignatures made with the old key then verify only with a
policy that still lists the old key).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Final

from services.ledger_keys import _make_key_file, _read_seed
from services.tlog.cosignature import Cosigner

PUBLIC_WITNESS: Final = "public-witness"
"""The public site's witness key name (and its label in a policy)."""


class PublicWitnessKey:
    """Loads (or makes, once) the public site's witness key from the keys directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cosigner: Cosigner | None = None
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self.directory / f"{PUBLIC_WITNESS}.key"

    def cosigner(self) -> Cosigner:
        with self._lock:
            if self._cosigner is None:
                self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
                if not self.path.exists():
                    _make_key_file(self.path)
                self._cosigner = Cosigner.from_seed(PUBLIC_WITNESS, _read_seed(self.path))
            return self._cosigner

    @property
    def vkey(self) -> str:
        return self.cosigner().vkey
