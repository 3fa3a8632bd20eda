"""Backup and restore (``ducha backup --to DIR``, ``ducha restore --from DIR``): a consistent
copy of every office's event store, the registry and the read store, plus the holiday data and
the ledger's keys, with a ``MANIFEST.json``; restored only into an empty database or data
directory, the read models then rebuilt. May import: what its modules say (``manifest``: the
standard library; ``sqlite`` and ``postgres``: their backend's adapters; ``run``: the platform).
"""

from services.backup.manifest import MANIFEST as MANIFEST
from services.backup.manifest import BackupError as BackupError
from services.backup.manifest import Manifest as Manifest
from services.backup.run import Progress as Progress
from services.backup.run import back_up as back_up
from services.backup.run import restore as restore
