"""``ducha users``: people's access. An API token is printed once (only its hash is kept);
with ``--login`` the person can also sign in to the screens with a password (only its scrypt
hash is kept), read from standard input or generated and printed once. Admins see and lift
sign-in locks here. May import: click, the domain, ``services.cli.common``,
``services.passwords``, ``services.signin`` and ``services.users``.
"""

from __future__ import annotations

import sys

import click

from domain.users import USER_ROLES
from services.cli.common import Context, emit_json, json_option, office_option, operator, pass_ctx
from services.inputs import china_time
from services.passwords import generated_password, password_problem
from services.signin import SignIn
from services.users import UserDirectory


@click.group()
def users() -> None:
    """People's access: API tokens, logins and passwords for the screens, sign-in locks."""


def directory(c: Context) -> UserDirectory:
    return UserDirectory(c.platform.registry, c.platform.clock)


def sign_in(c: Context) -> SignIn:
    return SignIn(directory(c), c.platform.read, c.platform.clock)


def new_password(generate: bool) -> tuple[str, bool]:
    """The password to set: generated (and to be printed), or read from standard input (its
    first line), as ``--generate`` says or, by default, generated when stdin is a terminal."""
    if generate or sys.stdin is None or sys.stdin.isatty():
        return generated_password(), True
    password = sys.stdin.readline().rstrip("\r\n")
    problem = password_problem(password)
    if problem:
        raise click.BadParameter(f"the password read from stdin: {problem}", param_hint="stdin")
    return password, False


@users.command("add")
@office_option
@click.option("--role", required=True, type=click.Choice(USER_ROLES))
@click.option("--name", required=True, help="The person's name, e.g. 张三.")
@click.option("--login", help="A login for the screens, e.g. zhangsan (password: see below).")
@click.option(
    "--generate-password",
    is_flag=True,
    help="Generate the password and print it once (the default when stdin is a terminal; "
    "otherwise the first line of stdin is the password).",
)
@click.option("--by", "by_user", default="cli", show_default=True, help="Who grants it.")
@pass_ctx
def users_add(
    c: Context,
    office: str,
    role: str,
    name: str,
    login: str | None,
    generate_password: bool,
    by_user: str,
) -> None:
    """Grant access: prints the new token alone on stdout, once (the id goes to stderr); with
    --login, a generated password is printed once too, on stderr."""
    password, generated = new_password(generate_password) if login else (None, False)
    actor = operator(by_user, office, "admin")
    user, token = directory(c).add(actor, office, role, name, login, password)
    click.echo(f"user {user.id} ({user.office} {user.role} {user.name}); its token:", err=True)
    click.echo(token)
    if login and generated:
        click.echo(f"login {login}, password (shown once): {password}", err=True)


@users.command("password")
@click.argument("login")
@click.option("--generate-password", is_flag=True, help="Generate it and print it once.")
@click.option("--by", "by_user", default="cli", show_default=True)
@pass_ctx
def users_password(c: Context, login: str, generate_password: bool, by_user: str) -> None:
    """Set a new password for LOGIN (from stdin, or generated and printed once). The person's
    open sessions end; a lock after failed attempts is lifted."""
    d = directory(c)
    user = d.by_login(login)
    password, generated = new_password(generate_password)
    d.set_password(operator(by_user, user.office, "admin"), login, password)
    sign_in(c).unlock(login)
    click.echo(f"new password for {login} ({user.office} {user.role} {user.name})", err=True)
    if generated:
        click.echo(password)


@users.command("revoke")
@click.argument("user_id", metavar="ID")
@click.option("--reason", required=True)
@click.option("--by", "by_user", default="cli", show_default=True)
@pass_ctx
def users_revoke(c: Context, user_id: str, reason: str, by_user: str) -> None:
    """Revoke a user's access at once, in every process (their token and their sessions)."""
    d = directory(c)
    user = d.get(user_id)
    d.revoke(operator(by_user, user.office, "admin"), user_id, reason)
    click.echo(f"revoked {user.id} ({user.office} {user.role} {user.name})")


@users.command("list")
@click.option("--office", default=None, help="Only this office's users.")
@json_option
@pass_ctx
def users_list(c: Context, office: str | None, as_json: bool) -> None:
    """Users (never their tokens or passwords), with their login and any sign-in lock."""
    found = directory(c).list(office)
    locks = {lock.login: lock.until for lock in sign_in(c).locks()}
    if as_json:
        emit_json(
            [
                u.to_dict()
                | {"locked_until": china_time(locks[u.login]) if u.login in locks else None}
                for u in found
            ]
        )
        return
    for u in found:
        state = "  (revoked)" if u.revoked else ""
        if u.login in locks:
            state += f"  (locked until {china_time(locks[u.login])[:16]})"
        login = u.login or "-"
        click.echo(f"{u.id}  {u.office:14} {u.role:10} {login:20} {u.name}{state}")


@users.command("unlock")
@click.argument("login")
@pass_ctx
def users_unlock(c: Context, login: str) -> None:
    """Lift the sign-in lock of LOGIN (after repeated failed attempts)."""
    directory(c).by_login(login)
    sign_in(c).unlock(login)
    click.echo(f"{login} may sign in again")


COMMANDS = [users]
