"""Event stores, one per office: an ``eventsourcing`` application over that office's recorder. An
adapter: may import ``eventsourcing``, psycopg, the domain's value objects (to transcode them) and
``services.errors``; its modules say which of these each uses.

Embedded default: one SQLite file per office (``sqlite``). With ``DUCHA_DATABASE_URL``:
PostgreSQL, one schema per office over one shared pool (``postgres``, ``pgschema``; what
``ducha migrate`` provisions and grants: ``pgprovision``, ``pggrants``). What both
share — the store of one office, the bound on open offices, the backend interface — is in
``backend``. Only ``services/bootstrap.py`` chooses between them.
"""

from services.stores.backend import (
    DEFAULT_OPEN_STORES as DEFAULT_OPEN_STORES,
)
from services.stores.backend import (
    PLATFORM as PLATFORM,
)
from services.stores.backend import (
    Backend as Backend,
)
from services.stores.backend import (
    RecentOffices as RecentOffices,
)
from services.stores.backend import (
    TenantStore as TenantStore,
)
from services.stores.postgres import PostgresBackend as PostgresBackend
from services.stores.signals import NoSignals as NoSignals
from services.stores.signals import Signals as Signals
from services.stores.sqlite import SQLiteBackend as SQLiteBackend
