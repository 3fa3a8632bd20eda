"""What needs no token: the health check and the public disclosure page. May import:
``services.http.common``, ``services.http.schemas`` and ``services.http.errors``.
"""

from __future__ import annotations

import logging
from typing import Any

from services.http import schemas as s
from services.http.common import (
    BASE,
    DuchaBlueprint,
    platform,
)
from services.http.errors import ErrorSchema, respond

log = logging.getLogger(__name__)

# -- health -------------------------------------------------------------------------
health = DuchaBlueprint("health", "health", description="Liveness of the stores")


@health.route("/healthz")
@health.arguments(s.NoQuery, location="query")
@health.response(200, s.Health)
@health.alt_response(503, schema=ErrorSchema)
def healthz(_query: dict[str, Any]) -> Any:
    """Whether the stores answer (200) or not (503). No token needed."""
    try:
        platform().registry.refresh()
        platform().read.all("SELECT 1 AS ok")
    except Exception as e:  # any failure of a store is "not healthy"
        log.warning("health check failed: %s", e)
        return respond(503, "a store does not answer")
    return {"status": "ok"}


public = DuchaBlueprint(
    "public", "public", url_prefix=BASE, description="Disclosure to the public (no token)"
)


@public.route("/public/items")
@public.arguments(s.Paging, location="query")
@public.response(200, s.PublicPage)
def public_items(args: dict[str, Any]) -> Any:
    """Published items with their progress, nothing else. No token needed."""
    return platform().views.public(args["page"], args["per_page"]).to_dict()
