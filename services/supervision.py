"""Commands and queries on supervision items and tasks, each in its own office's store.
May import: the standard library, eventsourcing, ``domain`` (assignment, cases, circulars, errors,
items, tasks, values) and ``services`` (clock, errors, metrics, registry, stores, views).

Every command is: load, one domain call, save. A save that loses a race, or a caller's
``expected_version`` that is stale, raises ``ConflictError``: nothing is overwritten. A command
in a retired office raises ``OfficeRetiredError``; reads still work there.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from domain.assignment import Assignee
from domain.cases import Case
from domain.circulars import Circular
from domain.errors import InvalidAssignmentError
from domain.items import SupervisionItem
from domain.tasks import Task
from domain.values import Actor, WorkingCalendar, business_date
from services.clock import Clock
from services.errors import ConflictError, NotFoundError, OfficeRetiredError
from services.metrics import commands_recorded
from services.registry import OfficeRegistry
from services.stores import Backend, TenantStore
from services.views import CaseView, EventView, case_view, plain

ACTIONS: Final[dict[str, str]] = {
    "assign": "assign",
    "acknowledge": "acknowledge",
    "report-progress": "report_progress",
    "report-completion": "report_completion",
    "accept-completion": "accept_completion",
    "return-completion": "return_completion",
    "request-extension": "request_extension",
    "grant-extension": "grant_extension",
    "deny-extension": "deny_extension",
    "urge": "urge",
    "escalate": "escalate",
    "commend": "commend",
    "order-rectification": "order_rectification",
    "report-rectification": "report_rectification",
    "accept-rectification": "accept_rectification",
    "close": "close",
    "reopen": "reopen",
    "publish": "publish",
    "unpublish": "unpublish",
    "record-finding": "record_finding",
}
"""Action names as the CLI and the HTTP API spell them → the domain method they call."""

EVENT_ENVELOPE: Final = (
    "originator_id",
    "originator_version",
    "originator_topic",
    "timestamp",
    "actor",
)
CREATION_TYPES: Final = (SupervisionItem.Registered, Task.Received)


@dataclass(frozen=True)
class NewItem:
    """What registering (立项) an item takes: the source, the five elements, the priorities."""

    title: str
    source_kind: str
    source_ref: str
    issued_on: date
    objective: str
    content: str
    executing_unit: str
    responsible_person: str
    deadline: date | None = None
    importance: int = 3
    urgency: int = 3


class SupervisionService:
    def __init__(
        self,
        backend: Backend,
        registry: OfficeRegistry,
        clock: Clock,
        calendar: WorkingCalendar,
    ) -> None:
        self.backend = backend
        self.registry = registry
        self.clock = clock
        self.calendar = calendar
        self.listeners: list[Callable[[str], None]] = []
        """Called with the office after every save: the embedded pump keeps the read side
        current before a command returns."""

    # -- commands ---------------------------------------------------------------------
    def register_item(
        self, actor: Actor, office: str, new: NewItem, item_id: UUID | None = None
    ) -> CaseView:
        store = self._active_store(office)
        item = SupervisionItem.register(
            item_id=item_id or uuid4(),
            actor=actor,
            at=self.clock(),
            office=office,
            calendar=self.calendar,
            **vars(new),
        )
        self._save(store, item)
        store.remember(item)
        self._saved(office)
        return self._view(item)

    def act(
        self,
        actor: Actor,
        office: str,
        item_id: str,
        action: str,
        expected_version: int | None = None,
        **params: Any,
    ) -> CaseView:
        """Carry out one of ``ACTIONS`` on an item or task of ``office``."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action '{action}'")
        self._active_store(office)
        if action == "assign":
            self._check_assignees(office, params.get("assignees", []))
        with self._changing(office, item_id, expected_version) as case:
            getattr(case, ACTIONS[action])(actor, self.clock(), **params)
        return self._view(case)

    def receive_assignment(
        self,
        actor: Actor,
        office: str,
        parent_office: str,
        parent_id: str,
        assignment: Case.Assigned,
    ) -> CaseView:
        """Create ``office``'s task from a parent's ``Assigned`` event; a repeat is a no-op.

        The cross-tenant process manager calls this for each office the event names. An
        office retired meanwhile receives nothing (``OfficeRetiredError``)."""
        store = self._store(office)
        task_id = Task.create_id(parent_office, parent_id, office)
        if task_id in store.repository:
            return self._view(store.repository.get(task_id))
        self._active_store(office)
        task = Task.receive(
            actor=actor,
            at=self.clock(),
            office=office,
            parent_office=parent_office,
            parent_id=parent_id,
            assignment=assignment,
            executing_unit=self.registry.get(office).name,
        )
        try:
            self._save(store, task)
        except ConflictError:  # received concurrently: the first one stands
            return self._view(store.repository.get(task_id))
        self._saved(office)
        return self._view(task)

    def relay_report(self, actor: Actor, office: str, record_id: str, **report: Any) -> CaseView:
        """Record a subordinate's report on ``office``'s record (the process manager's call)."""
        self._active_store(office)
        with self._changing(office, record_id, None) as case:
            case.receive_report(actor, self.clock(), **report)
        return self._view(case)

    def conclude(self, office: str, task_id: str, closed_by: str, source: str) -> CaseView:
        """End ``office``'s task because ``closed_by`` closed the matter above it (结办):
        ``Concluded`` by the system actor ``process-manager``, once per ``source``; a task
        already closed or concluded is left as it is (the process manager's call)."""
        self._active_store(office)
        actor = Actor("process-manager", office, "system")
        with self._changing(office, task_id, None) as case:
            case.conclude(actor, self.clock(), closed_by, source)
        return self._view(case)

    def recompute_deadline(
        self, office: str, record_id: str, reason: str, notice: str = ""
    ) -> CaseView:
        """Count a record's counted deadline again on the calendar as it now stands (a year's
        holiday notice was added): ``DeadlineRecomputed`` by the system actor ``calendar``,
        or nothing if the deadline and its provisional mark stay as they are."""
        self._active_store(office)
        actor = Actor("calendar", office, "system")
        with self._changing(office, record_id, None) as case:
            case.recompute_deadline(actor, self.clock(), self.calendar, reason, notice)
        return self._view(case)

    def issue_circular(
        self,
        actor: Actor,
        office: str,
        title: str,
        scope: str,
        text: str,
        commended: list[str],
        criticised: list[str],
        circular_id: UUID | None = None,
    ) -> dict[str, Any]:
        store = self._active_store(office)
        circular = Circular.issue(
            circular_id=circular_id or uuid4(),
            actor=actor,
            at=self.clock(),
            office=office,
            title=title,
            scope=scope,
            text=text,
            commended=commended,
            criticised=criticised,
        )
        self._save(store, circular)
        self._saved(office)
        return {"id": str(circular.id), "office": office, "title": circular.title}

    # -- queries ----------------------------------------------------------------------
    def get(self, office: str, item_id: str) -> CaseView:
        return self._view(self._load(self._store(office), item_id))

    def get_as_of(self, office: str, item_id: str, until: datetime) -> CaseView:
        """The record as it stood at ``until``: its history up to its first later event."""
        store = self._store(office)
        state: Any = None
        events: list[Any] = list(store.events.get(self._parse_id(store, item_id)))
        for event in events:
            if event.timestamp > until:
                break
            state = event.mutate(state)
        if not isinstance(state, Case):
            raise NotFoundError(f"no item '{item_id}' in office '{office}' at {until.isoformat()}")
        return case_view(state, business_date(until))

    def get_circular(self, office: str, circular_id: str) -> dict[str, Any]:
        """A circular as issued: its words and units, and when (``issued_at``)."""
        found: Any = None
        with suppress(ValueError, AggregateNotFoundError):
            found = self._store(office).repository.get(UUID(str(circular_id)))
        if not isinstance(found, Circular):
            raise NotFoundError(f"no circular '{circular_id}' in office '{office}'")
        keys = ("office", "title", "scope", "text", "commended", "criticised")
        shown = {k: copy.copy(getattr(found, k)) for k in keys}
        return {"id": str(found.id), "issued_at": found.created_on, **shown}

    def exists(self, office: str, item_id: UUID) -> bool:
        return item_id in self._store(office).repository

    def list_cases(self, office: str) -> list[CaseView]:
        """Every item and task of the office, oldest first."""
        store = self._store(office)
        return [self._view(store.repository.get(i)) for i in self._case_ids(store)]

    def history(self, office: str, item_id: str) -> list[EventView]:
        store = self._store(office)
        case = self._load(store, item_id)
        return [event_view(e) for e in store.events.get(case.id)]

    def assignment_event(self, office: str, item_id: str, version: int) -> Case.Assigned:
        """The ``Assigned`` event recorded at ``version`` of an item or task."""
        store = self._store(office)
        case = self._load(store, item_id)
        for event in store.events.get(case.id, gt=version - 1, lte=version):
            if isinstance(event, Case.Assigned):
                return event
        raise NotFoundError(f"item '{item_id}' has no assignment at version {version}")

    # -- internals --------------------------------------------------------------------
    def _store(self, office: str) -> TenantStore:
        self.registry.check_registered(office)
        return self.backend.store(office)

    def copy_of(self, office: str, item_id: str) -> Case:
        """The record as a copy of the caller's own (the cached one is shared and changes
        only within a save): to try an action on, as the screens do to know which to offer."""
        return copy.deepcopy(self._load(self._store(office), item_id))

    def _active_store(self, office: str) -> TenantStore:
        """The store of an office that may still act: registered and not retired."""
        store = self._store(office)
        if self.registry.get(office).retired:
            raise OfficeRetiredError(office)
        return store

    def _load(self, store: TenantStore, item_id: str) -> Case:
        aggregate_id = self._parse_id(store, item_id)
        try:
            with store.locked(aggregate_id):
                return self._as_case(store, store.repository.get(aggregate_id))
        except AggregateNotFoundError:
            raise NotFoundError(f"no item '{item_id}' in office '{store.tenant}'") from None

    @contextmanager
    def _changing(self, office: str, item_id: str, expected_version: int | None) -> Iterator[Case]:
        store = self._store(office)
        try:
            with store.changing(self._parse_id(store, item_id)) as found:
                case = self._as_case(store, found)
                if expected_version is not None and case.version != expected_version:
                    raise ConflictError(
                        f"item '{item_id}' is at version {case.version}, not "
                        f"{expected_version}: someone changed it first; reload and try again"
                    )
                before = case.version
                yield case
                changed = case.version != before
                self._save(store, case)
        except AggregateNotFoundError:
            raise NotFoundError(f"no item '{item_id}' in office '{office}'") from None
        if changed:
            self._saved(office)

    def _saved(self, office: str) -> None:
        """Tell the listeners (the embedded pump) once the change is saved and unlocked."""
        for listener in self.listeners:
            listener(office)

    @staticmethod
    def _parse_id(store: TenantStore, item_id: str) -> UUID:
        try:
            return UUID(str(item_id))
        except ValueError:
            raise NotFoundError(f"no item '{item_id}' in office '{store.tenant}'") from None

    @staticmethod
    def _as_case(store: TenantStore, found: Aggregate) -> Case:
        if not isinstance(found, Case):
            raise NotFoundError(f"no item '{found.id}' in office '{store.tenant}'")
        return found

    def _save(self, store: TenantStore, aggregate: Aggregate) -> None:
        try:  # every command passes here once: counted by its events (``services.metrics``)
            commands_recorded(r.domain_event for r in store.save(aggregate))
        except IntegrityError:
            raise ConflictError(
                f"'{aggregate.id}' in office '{store.tenant}' was changed by someone else "
                "at the same time; nothing was recorded; reload and try again"
            ) from None

    def _check_assignees(self, office: str, assignees: list[Assignee]) -> None:
        """Offices assigned to must be registered, active descendants of the assigning one.

        An office that is not below the assigning one is refused exactly like one that does not
        exist (same error, same words): an assignment never reveals what it may not see. Only a
        descendant may be said to be retired."""
        for a in assignees:
            if a.kind != "office":
                continue
            below = self.registry.exists(a.target) and self.registry.is_descendant(
                a.target, of=office
            )
            if not below:
                raise InvalidAssignmentError(
                    f"office '{a.target}' is not registered or not below '{office}' "
                    "in the hierarchy"
                )
            if self.registry.get(a.target).retired:
                raise InvalidAssignmentError(f"office '{a.target}' is retired")

    @staticmethod
    def _case_ids(store: TenantStore) -> Iterator[UUID]:
        position = 0
        topics = [get_topic(t) for t in CREATION_TYPES]
        while batch := store.recorder.select_notifications(position + 1, 1000, topics=topics):
            for notification in batch:
                yield UUID(str(notification.originator_id))
            position = batch[-1].id

    def _view(self, case: Case) -> CaseView:
        return case_view(case, business_date(self.clock()))


def event_view(event: Any) -> EventView:
    data = {
        k: plain(v)
        for k, v in vars(event).items()
        if k
        not in ("originator_id", "originator_version", "timestamp", "actor", "originator_topic")
    }
    return EventView(
        type=type(event).__name__,
        version=event.originator_version,
        time=event.timestamp,
        actor=plain(event.actor),
        data=data,
    )
