"""Behind a reverse proxy that terminates TLS: which forwarded headers to believe. May import:
werkzeug and ``services.errors``.

``DUCHA_TRUSTED_PROXIES`` is how many proxies stand in front of the app (default 0: none, so
``X-Forwarded-For``/``-Proto``/``-Host``/``-Port`` are ignored, whoever sends them). With N, the
last N values of each header are believed (werkzeug's ``ProxyFix``): the client's address,
``https``, the public host. Set it only when the app is reachable through the proxies alone
(compose publishes no port of ``http`` then): anyone able to reach the app directly could
otherwise claim any address and scheme.
"""

from __future__ import annotations

import os
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

from services.errors import ServiceError

SETTING = "DUCHA_TRUSTED_PROXIES"
MOST = 5


def trusted_proxies(environ: dict[str, str] | None = None) -> int:
    """The setting, checked: a whole number from 0 to ``MOST``."""
    raw = (os.environ if environ is None else environ).get(SETTING, "0").strip() or "0"
    if not raw.isdigit() or int(raw) > MOST:
        raise ServiceError(f"{SETTING} must be a whole number from 0 to {MOST}, not {raw!r}")
    return int(raw)


def behind_proxies(wsgi_app: Any, hops: int) -> Any:
    """``wsgi_app`` believing the forwarded headers of ``hops`` proxies (itself if none)."""
    if hops == 0:
        return wsgi_app
    return ProxyFix(wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
