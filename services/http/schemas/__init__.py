"""Request and response shapes. Field names follow the domain and the CLI's option names.
May import: ``services.http.schemas`` (actions, fields, items, offices, readside).

Responses are dumped from plain JSON values (dates already ISO strings), so date and time
fields are declared as strings with an OpenAPI ``format``.
"""

from __future__ import annotations

from services.http.schemas.actions import (
    ACTION_BODIES as ACTION_BODIES,
)
from services.http.schemas.actions import (
    AcceptCompletion as AcceptCompletion,
)
from services.http.schemas.actions import (
    Assign as Assign,
)
from services.http.schemas.actions import (
    Close as Close,
)
from services.http.schemas.actions import (
    Comment as Comment,
)
from services.http.schemas.actions import (
    DenyExtension as DenyExtension,
)
from services.http.schemas.actions import (
    Empty as Empty,
)
from services.http.schemas.actions import (
    Escalate as Escalate,
)
from services.http.schemas.actions import (
    GrantExtension as GrantExtension,
)
from services.http.schemas.actions import (
    OrderRectification as OrderRectification,
)
from services.http.schemas.actions import (
    Publish as Publish,
)
from services.http.schemas.actions import (
    Reason as Reason,
)
from services.http.schemas.actions import (
    RecordFinding as RecordFinding,
)
from services.http.schemas.actions import (
    ReportCompletion as ReportCompletion,
)
from services.http.schemas.actions import (
    ReportProgress as ReportProgress,
)
from services.http.schemas.actions import (
    RequestExtension as RequestExtension,
)
from services.http.schemas.actions import (
    ReturnCompletion as ReturnCompletion,
)
from services.http.schemas.actions import (
    TextOnly as TextOnly,
)
from services.http.schemas.actions import (
    Urge as Urge,
)
from services.http.schemas.actions import (
    assignee as assignee,
)
from services.http.schemas.fields import (
    AsOf as AsOf,
)
from services.http.schemas.fields import (
    Day as Day,
)
from services.http.schemas.fields import (
    Instant as Instant,
)
from services.http.schemas.fields import (
    NoQuery as NoQuery,
)
from services.http.schemas.fields import (
    Paging as Paging,
)
from services.http.schemas.fields import (
    Strict as Strict,
)
from services.http.schemas.fields import (
    Text as Text,
)
from services.http.schemas.fields import (
    iso_date as iso_date,
)
from services.http.schemas.fields import (
    iso_time as iso_time,
)
from services.http.schemas.fields import (
    page_of as page_of,
)
from services.http.schemas.fields import (
    whole as whole,
)
from services.http.schemas.fields import (
    words as words,
)
from services.http.schemas.items import (
    EventOut as EventOut,
)
from services.http.schemas.items import (
    History as History,
)
from services.http.schemas.items import (
    ItemIn as ItemIn,
)
from services.http.schemas.items import (
    ItemOut as ItemOut,
)
from services.http.schemas.items import (
    ItemPage as ItemPage,
)
from services.http.schemas.items import (
    ItemQuery as ItemQuery,
)
from services.http.schemas.items import (
    TreeNode as TreeNode,
)
from services.http.schemas.offices import (
    OfficeIn as OfficeIn,
)
from services.http.schemas.offices import (
    OfficeList as OfficeList,
)
from services.http.schemas.offices import (
    OfficeOut as OfficeOut,
)
from services.http.schemas.offices import (
    PolicyIn as PolicyIn,
)
from services.http.schemas.offices import (
    SkippedPage as SkippedPage,
)
from services.http.schemas.offices import (
    SkippedRelayOut as SkippedRelayOut,
)
from services.http.schemas.offices import (
    UserCreated as UserCreated,
)
from services.http.schemas.offices import (
    UserIn as UserIn,
)
from services.http.schemas.offices import (
    UserList as UserList,
)
from services.http.schemas.offices import (
    UserOut as UserOut,
)
from services.http.schemas.readside import (
    AuditEntry as AuditEntry,
)
from services.http.schemas.readside import (
    AuditPage as AuditPage,
)
from services.http.schemas.readside import (
    AuditQuery as AuditQuery,
)
from services.http.schemas.readside import (
    Circular as Circular,
)
from services.http.schemas.readside import (
    CircularEntry as CircularEntry,
)
from services.http.schemas.readside import (
    CircularIn as CircularIn,
)
from services.http.schemas.readside import (
    CircularIssued as CircularIssued,
)
from services.http.schemas.readside import (
    ConsumerOut as ConsumerOut,
)
from services.http.schemas.readside import (
    ConsumerQuery as ConsumerQuery,
)
from services.http.schemas.readside import (
    Consumers as Consumers,
)
from services.http.schemas.readside import (
    DeadLetter as DeadLetter,
)
from services.http.schemas.readside import (
    Health as Health,
)
from services.http.schemas.readside import (
    PublicItem as PublicItem,
)
from services.http.schemas.readside import (
    PublicPage as PublicPage,
)
from services.http.schemas.readside import (
    Resumed as Resumed,
)
from services.http.schemas.readside import (
    RetryIn as RetryIn,
)
from services.http.schemas.readside import (
    Rollup as Rollup,
)
