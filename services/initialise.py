"""``ducha init``: the root office and the first admin, once. May import: the domain's values,
``services.errors``, ``services.registry``, ``services.users`` and ``services.views``.

Idempotent: run again with the same root and admin, it records nothing and says so; with
another root (or the same code under another name or level), another admin, or a login held
by someone else, it refuses, naming what is there. A root registered without an admin (an init
cut short, or ``ducha offices add``) gets its admin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from domain.values import Actor
from services.errors import AlreadyExistsError, NotFoundError, ServiceError
from services.registry import OfficeRegistry
from services.users import UserDirectory, UserView
from services.views import OfficeView


class InitialisedOtherwiseError(ServiceError):
    """The platform was initialised with another root or admin."""


@dataclass(frozen=True)
class Initialised:
    root: OfficeView
    admin: UserView
    token: str | None
    """The admin's API token, shown once; None when the admin already existed."""
    already: bool
    """Nothing was recorded: root and admin were there."""


@dataclass(frozen=True)
class Bootstrap:
    code: str
    name: str
    level: str
    login: str
    admin_name: str


def initialise(
    registry: OfficeRegistry,
    users: UserDirectory,
    actor: Actor,
    want: Bootstrap,
    password: Callable[[], str],
) -> Initialised:
    """Register the root office and its first admin (login ``want.login``, the password
    ``password()`` gives, asked only if the admin is made now) unless they exist; see the
    module's docstring."""
    root, made_root = the_root(registry, actor, want)
    try:
        admin = users.by_login(want.login)
    except NotFoundError:
        admin = None
    if admin is None:
        others = [u for u in users.list(root.code) if u.role == "admin" and not u.revoked]
        if others:
            held = others[0].login or others[0].id
            raise InitialisedOtherwiseError(
                f"already initialised: '{root.code}' has its admin '{held}'; "
                f"add another with: ducha users add --office {root.code} --role admin …"
            )
        try:
            admin, token = users.add(
                actor, root.code, "admin", want.admin_name, want.login, password()
            )
        except AlreadyExistsError:  # another init took the login meanwhile
            admin, token = users.by_login(want.login), None
    else:
        token = None
    if (admin.office, admin.role) != (root.code, "admin") or admin.revoked:
        raise InitialisedOtherwiseError(
            f"the login '{want.login}' belongs to {admin.name} "
            f"({admin.office} {admin.role}{', revoked' if admin.revoked else ''}), "
            f"not to an admin of '{root.code}': choose another --admin"
        )
    return Initialised(root, admin, token, already=not made_root and token is None)


def the_root(registry: OfficeRegistry, actor: Actor, want: Bootstrap) -> tuple[OfficeView, bool]:
    """The root office as wanted, and whether it was registered now."""
    root = next((o for o in registry.all() if o.parent is None), None)
    made = False
    if root is None:
        try:
            root, made = registry.register(actor, want.code, want.name, want.level), True
        except AlreadyExistsError:  # another init registered it meanwhile
            root = registry.get(want.code)
    if (root.code, root.name, root.level) != (want.code, want.name, want.level):
        raise InitialisedOtherwiseError(
            f"already initialised with root office '{root.code}' ({root.name}, {root.level}); "
            f"not '{want.code}' ({want.name}, {want.level})"
        )
    return root, made
