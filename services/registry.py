"""The office registry (platform level, event-sourced) and its hierarchy queries. May import: the
standard library, orjson, ``eventsourcing`` (persistence, utils), the domain, ``services.clock``,
``services.errors``, ``services.views`` and ``services.stores`` (the registry's own store).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

import orjson
from eventsourcing.persistence import IntegrityError, Notification
from eventsourcing.utils import get_topic

from domain.offices import Office
from domain.values import Actor
from services.clock import Clock
from services.errors import AlreadyExistsError, ConflictError, NotFoundError, RegistryRuleError
from services.stores import PLATFORM, Backend
from services.views import OfficeView

REGISTERED = get_topic(Office.Registered)
OFFICE_EVENTS = get_topic(Office) + "."


@dataclass(frozen=True)
class LogKey:
    """A registered ledger key of an office: what it is for, its verifier key, since when."""

    office: str
    purpose: str
    vkey: str
    registered_at: datetime


class OfficeRegistry:
    """Registers, renames and retires offices; answers children, ancestors, descendants.

    The hierarchy is kept in memory, caught up from the registry's notification log before
    each query, so that it sees offices registered by other processes.
    """

    def __init__(self, backend: Backend, clock: Clock) -> None:
        self.backend = backend
        self.clock = clock
        # Provision once (DESIGN §6.5); afterwards only open.
        provisioned = backend.is_provisioned(PLATFORM)
        self.store = backend.store(PLATFORM) if provisioned else backend.provision(PLATFORM)
        self._offices: dict[str, OfficeView] = {}
        self._codes: dict[UUID, str] = {}
        self._ancestors: dict[str, list[str]] = {}
        self._log_keys: dict[str, list[LogKey]] = {}
        self._position = 0
        self._lock = threading.Lock()

    # -- commands ---------------------------------------------------------------------
    def register(
        self, actor: Actor, code: str, name: str, level: str, parent: str | None = None
    ) -> OfficeView:
        self.refresh()
        office = Office.register(
            actor, self.clock(), code, name, level, parent, above=self._lineage(parent)
        )
        if code in self._offices:
            raise AlreadyExistsError(f"office '{code}' is already registered")
        self._check_parent(parent)
        self.backend.provision(code)  # its store exists before anyone can act in it
        try:
            self.store.save(office)
        except IntegrityError:
            raise AlreadyExistsError(f"office '{code}' is already registered") from None
        return self.get(code)

    def rename(self, actor: Actor, code: str, name: str) -> OfficeView:
        with self._changing(code) as office:
            office.rename(actor, self.clock(), name)
        return self.get(code)

    def retire(self, actor: Actor, code: str, reason: str) -> OfficeView:
        active = [c.code for c in self.children(code) if not c.retired]
        if active:
            raise RegistryRuleError(
                f"office '{code}' still has active subordinate offices: {', '.join(active)}"
            )
        with self._changing(code) as office:
            office.retire(actor, self.clock(), reason)
        return self.get(code)

    def set_deadline_policy(
        self, actor: Actor, code: str, escalate: bool, grace_working_days: int
    ) -> OfficeView:
        with self._changing(code) as office:
            office.set_deadline_policy(actor, self.clock(), escalate, grace_working_days)
        return self.get(code)

    def register_log_key(self, actor: Actor, code: str, purpose: str, vkey: str) -> LogKey:
        """Record a ledger public key of the office (``purpose``: ``log`` or ``witness``)."""
        with self._changing(code) as office:
            office.register_log_key(actor, self.clock(), purpose, vkey)
        return self.log_keys(code, purpose)[-1]

    # -- queries ----------------------------------------------------------------------
    def log_keys(self, code: str, purpose: str) -> list[LogKey]:
        """The office's ledger keys for ``purpose``, oldest first (the last is current)."""
        self.get(code)
        return [k for k in self._log_keys.get(code, []) if k.purpose == purpose]

    def get(self, code: str) -> OfficeView:
        self.refresh()
        try:
            return self._offices[code]
        except KeyError:
            raise NotFoundError(f"no office '{code}'") from None

    def exists(self, code: str) -> bool:
        self.refresh()
        return code in self._offices

    def check_registered(self, code: str) -> None:
        """Offices are never deleted, so a known code needs no catch-up: the hot path of every
        command. Raises ``NotFoundError`` if the code is unknown even after catching up."""
        if code not in self._offices:
            self.get(code)

    def all(self) -> list[OfficeView]:
        """Every office, top-down (each after its parent), siblings by code."""
        roots = [o for o in self._sorted() if o.parent is None]
        return [o for root in roots for o in [root, *self.descendants(root.code)]]

    def children(self, code: str) -> list[OfficeView]:
        self.get(code)
        return [o for o in self._sorted() if o.parent == code]

    def ancestors(self, code: str) -> list[OfficeView]:
        """Nearest first, ending with the root."""
        chain: list[OfficeView] = []
        parent = self.get(code).parent
        while parent is not None:
            office = self.get(parent)
            chain.append(office)
            parent = office.parent
        return chain

    def descendants(self, code: str) -> list[OfficeView]:
        """Breadth-first: children, then grandchildren, and so on."""
        self.get(code)
        by_parent: dict[str, list[OfficeView]] = {}
        for o in self._sorted():
            if o.parent is not None:
                by_parent.setdefault(o.parent, []).append(o)
        found: list[OfficeView] = []
        queue = deque([code])
        while queue:
            for child in by_parent.get(queue.popleft(), []):
                found.append(child)
                queue.append(child.code)
        return found

    def ancestor_codes(self, code: str) -> list[str]:
        """Nearest first. A parent never changes, so this needs no catch-up once known."""
        if code not in self._ancestors:
            office = self._offices[code] if code in self._offices else self.get(code)
            chain = []  # a parent is registered before its children: known if they are
            while office.parent is not None:
                office = self._offices[office.parent]
                chain.append(office.code)
            self._ancestors[code] = chain
        return self._ancestors[code]

    def is_descendant(self, code: str, of: str) -> bool:
        return any(a.code == of for a in self.ancestors(code))

    # -- internals --------------------------------------------------------------------
    def refresh(self) -> None:
        """Catch up with the registry's notification log. A process reads it whole on its
        first query, so the common events go the short way: a registration is read straight
        from its JSON (``_registered``), and the events of the platform store that are not
        offices' (users, logins) are not decoded at all."""
        with self._lock:
            while True:
                batch = self.store.recorder.select_notifications(self._position + 1, 5000)
                if not batch:
                    return
                for notification in batch:
                    if notification.topic == REGISTERED:
                        self._registered(notification)
                    elif notification.topic.startswith(OFFICE_EVENTS):
                        self._apply(self.store.mapper.to_domain_event(notification))
                    self._position = notification.id

    def _registered(self, notification: Notification) -> None:
        """An office's registration, from its stored JSON; anything unexpected in it (an
        older shape, say) is decoded the long way."""
        try:
            data = orjson.loads(notification.state)
            stamp = data["timestamp"]
            if stamp["_type_"] != "datetime_iso":
                raise ValueError(stamp["_type_"])
            view = OfficeView(
                data["code"],
                data["name"],
                data["level"],
                data["parent"],
                False,
                1,
                datetime.fromisoformat(stamp["_data_"]),
            )
        except (ValueError, KeyError, TypeError):
            self._apply(self.store.mapper.to_domain_event(notification))
            return
        self._offices[view.code] = view
        origin = notification.originator_id
        self._codes[origin if isinstance(origin, UUID) else UUID(origin)] = view.code

    def _apply(self, event: object) -> None:
        if isinstance(event, Office.Registered):
            self._offices[event.code] = OfficeView(
                event.code, event.name, event.level, event.parent, False, 1, event.timestamp
            )
            self._codes[event.originator_id] = event.code
            return
        code = self._codes.get(event.originator_id)  # type: ignore[attr-defined]
        if code is None:
            return  # not an office: users live in the platform store too

        old = self._offices[code]
        changes: dict[str, object] = {"version": event.originator_version}  # type: ignore[attr-defined]
        if isinstance(event, Office.Renamed):
            changes["name"] = event.name
        elif isinstance(event, Office.Retired):
            changes["retired"] = True
        elif isinstance(event, Office.LogKeyRegistered):
            key = LogKey(code, event.purpose, event.vkey, event.timestamp)
            self._log_keys.setdefault(code, []).append(key)
        elif isinstance(event, Office.DeadlinePolicySet):
            changes["escalate"] = event.escalate
            changes["grace_working_days"] = event.grace_working_days
        self._offices[code] = replace(old, **changes)  # type: ignore[arg-type]

    def _sorted(self) -> list[OfficeView]:
        self.refresh()
        return sorted(self._offices.values(), key=lambda o: o.code)

    def _lineage(self, parent: str | None) -> list[tuple[str, str]]:
        """(code, level) of ``parent`` and its ancestors, nearest first; empty for an unknown
        parent (``_check_parent`` refuses it). Offices registered before the level rule are
        not judged again: their events are history."""
        chain: list[tuple[str, str]] = []
        while parent is not None and parent in self._offices:
            office = self._offices[parent]
            chain.append((office.code, office.level))
            parent = office.parent
        return chain

    def _check_parent(self, parent: str | None) -> None:
        if parent is None:
            roots = [o.code for o in self._offices.values() if o.parent is None]
            if roots:
                raise RegistryRuleError(
                    f"only the root office has no parent, and '{roots[0]}' is the root; "
                    "name a parent"
                )
            return
        found = self._offices.get(parent)
        if found is None:
            raise RegistryRuleError(f"parent office '{parent}' is not registered")
        if found.retired:
            raise RegistryRuleError(f"parent office '{parent}' is retired")

    @contextmanager
    def _changing(self, code: str) -> Iterator[Office]:
        """Load an office, let the caller change it, save it; a lost race is a conflict."""
        self.get(code)
        with self.store.changing(Office.create_id(code)) as office:
            yield office
            try:
                self.store.save(office)
            except IntegrityError:
                raise ConflictError(
                    f"office '{code}' was changed by someone else; try again"
                ) from None
