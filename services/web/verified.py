"""已验证, the verifiable ledger on the screens: the badge the item page and the public item page
show for one event of the record ("verified against checkpoint N, cosigned by …", or "no
checkpoint yet"), linking its proof bundle; and, for admins, the witnesses' alerts (their
count in the nav, the list at ``/ledger-alerts``; anyone else: 404). May import: Flask,
Flask-Babel, the services (``tlog_serving``) and ``services.web``.

The badge is ``LogServing.badge``: the office's last checkpoint, and if it covers the event the
bundle verified on the spot against the office's log keys and its witnesses' keys; witnesses
are named by office name (in Chinese, as registered), the public site by its name in the
page's language. A badge that cannot be worked out says so and is logged: the page still shows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from services.errors import NotFoundError
from services.inputs import china_time
from services.tlog_serving import LogServing
from services.web.common import context, page, signed_in, signed_in_user, web

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Shown:
    """A badge as a page shows it: ``state`` (verified, pending, failed), the checkpoint's
    size, the cosigning offices' names, whether the public site cosigned, the bundle's link,
    and when the checkpoint it rests on last changed."""

    state: str
    size: int = 0
    names: list[str] = field(default_factory=list)
    public: bool = False
    link: str = ""
    message: str = ""
    since: datetime | None = None

    @property
    def key(self) -> tuple[Any, ...]:
        """What the badge says, for a page's ETag."""
        return (self.state, self.size, tuple(self.names), self.public, self.link)


def serving() -> LogServing:
    the = context().platform
    return LogServing(the.ledger, the.read, the.registry, the.backend, the.supervision)


def ledger_badge(
    office: str, record_id: str, version: int | None = None, linked: bool = True
) -> Shown:
    """The badge of the record's latest event (or its event at ``version``); the bundle's
    link only if ``linked`` (the proof route would answer the person)."""
    try:
        badge = serving().badge(office, record_id, version)
    except Exception:  # the page still shows; the log says why the badge could not
        log.exception("no ledger badge for %s/%s", office, record_id)
        return Shown("failed", message=str(_l("the ledger could not be read")))
    registry = context().platform.registry
    names = [registry.get(code).name for code in badge.cosigners]
    link = f"/log/{office}/proof/{badge.notification_id}" if linked else ""
    return Shown(badge.state, badge.size, names, badge.public, link, badge.message, badge.since)


# -- the witnesses' alerts (admins) ------------------------------------------------------------
@web.app_template_global()
def ledger_alert_count() -> int | None:
    """The witnesses' alert count for an admin (the nav's number), None for anyone else."""
    user = signed_in_user()
    if user is None or user.role != "admin":
        return None
    return serving().alert_count()


@web.route("/ledger-alerts")
@signed_in
def ledger_alerts() -> Any:
    """Every witness alert, newest first (admins only; anyone else: 404)."""
    if ledger_alert_count() is None:
        raise NotFoundError("no such page")
    alerts = context().platform.ledger.checkpoints.alerts()
    rows = [{**vars(a), "at": china_time(a.at)[:19].replace("T", " ")} for a in alerts]
    return page("ledger_alerts.html", alerts=rows)
