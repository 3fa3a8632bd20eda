"""``ducha migrate`` and ``ducha init``: a new installation's first two steps. May import: click,
the domain's values, ``services.cli.common`` and ``services.cli.users`` (passwords),
``services.initialise``, ``services.provision`` and ``services.users``.
"""

from __future__ import annotations

import click

from domain.values import OFFICE_LEVELS
from services.cli.common import Context, emit_json, json_option, operator, pass_ctx
from services.cli.users import new_password
from services.initialise import Bootstrap, initialise
from services.provision import migrate
from services.users import UserDirectory


@click.command("migrate")
@click.option(
    "--grant-to",
    "grant_to",
    multiple=True,
    metavar="ROLE",
    help="PostgreSQL: the runtime role to grant what it needs (repeatable). It must exist, "
    "and should be LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE.",
)
@pass_ctx
def migrate_command(c: Context, grant_to: tuple[str, ...]) -> None:
    """Provision every schema, table and index, once, as the database's owner role.

    PostgreSQL: run it with the owner's DSN before anything else and after every upgrade; the
    other processes, run as the role given to --grant-to, then run no DDL at all (they stop
    with "run `ducha migrate` first" until it has run). Safe to run again: it creates only
    what is missing. SQLite: creates what is missing, or says there was nothing to do.
    """
    for line in migrate(c.settings, grant_to):
        click.echo(line)


@click.command("init")
@click.option("--root", "code", required=True, metavar="CODE", help="The root office's code.")
@click.option("--name", required=True, help="The root office's name, e.g. 国务院办公厅.")
@click.option("--level", type=click.Choice(OFFICE_LEVELS), default="central", show_default=True)
@click.option("--admin", "login", required=True, metavar="LOGIN", help="The first admin's login.")
@click.option("--admin-name", help="The admin's name, e.g. 张三 (default: the login).")
@click.option(
    "--url",
    default="http://127.0.0.1:8000",
    show_default=True,
    envvar="DUCHA_PUBLIC_URL",
    help="Where the screens are served, for the sign-in line (env DUCHA_PUBLIC_URL).",
)
@click.option(
    "--generate-password",
    is_flag=True,
    help="Generate the admin's password and print it once (the default when stdin is a "
    "terminal; otherwise the first line of stdin is the password).",
)
@json_option
@pass_ctx
def init_command(
    c: Context,
    code: str,
    name: str,
    level: str,
    login: str,
    admin_name: str | None,
    url: str,
    generate_password: bool,
    as_json: bool,
) -> None:
    """Create the root office and its first admin, and say what to do next. Run it again
    with the same options: nothing is recorded twice ("already initialised")."""
    platform = c.platform
    users = UserDirectory(platform.registry, platform.clock)
    asked: list[tuple[str, bool]] = []

    def password() -> str:  # read or generated only if the admin is made now
        asked.append(new_password(generate_password))
        return asked[0][0]

    want = Bootstrap(code, name, level, login, admin_name or login)
    actor = operator("init", "platform", "admin")
    done = initialise(platform.registry, users, actor, want, password)
    shown = asked[0][0] if done.token and asked and asked[0][1] else None
    if as_json:
        emit_json(
            {
                "already_initialised": done.already,
                "root": done.root.to_dict(),
                "admin": done.admin.to_dict(),
                "token": done.token,
                "password": shown,
                "signin": f"{url.rstrip('/')}/signin",
            }
        )
        return
    root = done.root
    if done.already:
        click.echo(f"already initialised: root office {root.code} ({root.name}), admin {login}")
        return
    click.echo(f"initialised: root office {root.code} ({root.name}, {root.level}), admin {login}")
    if done.token:
        click.echo(f"  API token (shown once, only its hash is kept): {done.token}")
        click.echo(f"  password for {login}: {shown or '(the one read from stdin)'}")
    click.echo("next:")
    click.echo(f"  sign in at {url.rstrip('/')}/signin as {login}; the API docs: {url}/api/v1/docs")
    click.echo(
        f"  register the offices below: ducha offices add CODE --name 名称 --level province "
        f"--parent {root.code}  (or POST /api/v1/offices with the admin's token)"
    )
    click.echo(
        "  give people access: ducha users add --office CODE --role clerk --name 姓名 --login …"
    )


COMMANDS = [migrate_command, init_command]
