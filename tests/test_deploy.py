"""Production descriptors are validated here, since no Docker engine runs them."""

from __future__ import annotations

import json
import re
from pathlib import Path

from services.cli import cli

DOCKERFILE = Path(__file__).parents[1] / "deploy" / "Dockerfile"


def instruction(name: str) -> list[str]:
    match = re.search(rf"^{name} (\[.*\])$", DOCKERFILE.read_text("utf-8"), re.MULTILINE)
    assert match, f"no exec-form {name} in the Dockerfile"
    parsed: list[str] = json.loads(match.group(1))
    return parsed


def test_the_image_serves_the_api_with_options_the_cli_has() -> None:
    assert instruction("ENTRYPOINT") == ["ducha"]
    command, *args = instruction("CMD")
    assert command == "serve"
    known = {opt for p in cli.commands["serve"].params for opt in p.opts}
    given = [a for a in args if a.startswith("--")]
    assert given and set(given) <= known, set(given) - known
    assert (
        "EXPOSE 8000" in DOCKERFILE.read_text("utf-8") and args[args.index("--port") + 1] == "8000"
    )


def test_the_image_copies_every_package_it_installs() -> None:
    text = DOCKERFILE.read_text("utf-8")
    for package in ("domain", "services", "projections"):
        assert f"COPY {package} ./{package}" in text


COMPOSE = Path(__file__).parents[1] / "deploy" / "compose.yaml"


def test_compose_parses_and_runs_only_commands_the_cli_has() -> None:
    import yaml

    spec = yaml.safe_load(COMPOSE.read_text("utf-8"))
    services = spec["services"]
    assert {"postgres", "kafka", "http", "relay", "worker"} <= set(services)
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft
    for name in ("migrate", "http", "relay", "worker"):
        command = services[name]["command"]
        assert_the_cli_has(name, command)
        env = services[name]["environment"]
        assert env["DUCHA_BUS"] == "kafka" and env["DUCHA_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env["DUCHA_DATABASE_URL"].startswith("postgresql://")
    assert services["worker"]["deploy"]["replicas"] == 2


def assert_the_cli_has(name: str, command: list[str]) -> None:
    """The command (``group leaf`` or a command alone) and every ``--option`` it gives."""
    group = cli.commands[command[0]]
    leaf = group.commands[command[1]] if hasattr(group, "commands") else group  # type: ignore[attr-defined]
    known = {opt for p in leaf.params for opt in p.opts}
    given = {a.split("=")[0] for a in command if a.startswith("--")}
    assert given <= known, (name, given - known)


def role_of(dsn: str) -> str:
    return dsn.split("://", 1)[1].split(":", 1)[0]


INITDB = Path(__file__).parents[1] / "deploy" / "initdb" / "10-roles.sh"


def test_compose_migrates_as_the_owner_and_runs_everything_else_as_the_restricted_role() -> None:
    import yaml

    services = yaml.safe_load(COMPOSE.read_text("utf-8"))["services"]
    migrate = services["migrate"]
    granted = migrate["command"][migrate["command"].index("--grant-to") + 1]
    assert role_of(migrate["environment"]["DUCHA_DATABASE_URL"]) == "ducha_owner"
    assert migrate["restart"] == "no"
    for name in ("http", "relay", "worker"):
        assert role_of(services[name]["environment"]["DUCHA_DATABASE_URL"]) == granted
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
    script = INITDB.read_text("utf-8")
    mounted = [v for v in services["postgres"]["volumes"] if "docker-entrypoint-initdb.d" in v]
    assert mounted == ["./initdb:/docker-entrypoint-initdb.d:ro"]
    assert f"CREATE ROLE {granted} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE" in script
    assert "CREATE DATABASE ducha OWNER ducha_owner" in script
    assert "CREATE ROLE ducha_owner LOGIN NOSUPERUSER" in script


DEPLOY_README = Path(__file__).parents[1] / "deploy" / "README.md"


def test_the_compose_commands_the_deploy_readme_gives_exist_in_the_cli() -> None:
    """``docker compose … run --rm http init …`` and the like, as the README shows them."""
    import shlex

    import yaml

    ran = [
        shlex.split(line.split(" run --rm ", 1)[1].split("#")[0].split("`")[0])
        for line in DEPLOY_README.read_text("utf-8").splitlines()
        if "docker compose" in line and " run --rm " in line
    ]
    assert ran and any(command[1:2] == ["init"] for command in ran), ran
    services = yaml.safe_load(COMPOSE.read_text("utf-8"))["services"]
    for service, *command in ran:
        assert service in ("http", "migrate"), service  # migrate: as the owner role
        assert_the_cli_has(service, command or services[service]["command"])
        if command and command[0] in ("restore", "backup"):
            assert "backups:/backups" in services[service]["volumes"], service
    init = next(command for command in ran if command[1:2] == ["init"])
    for required in ("--root", "--name", "--admin"):
        assert required in init


def test_every_long_running_service_restarts_and_has_a_healthcheck() -> None:
    import yaml

    services = yaml.safe_load(COMPOSE.read_text("utf-8"))["services"]
    for name in ("postgres", "kafka", "http", "proxy", "relay", "worker"):
        assert services[name]["restart"] == "unless-stopped", name
        assert name == "http" or services[name]["healthcheck"]["test"], name
    assert "HEALTHCHECK" in DOCKERFILE.read_text("utf-8")  # http: the image's, on /healthz
    worker, relay = services["worker"], services["relay"]
    check = worker["healthcheck"]["test"]
    assert check[:4] == ["CMD", "ducha", "worker", "health"]
    assert_the_cli_has("worker healthcheck", check[2:])
    written = worker["command"][worker["command"].index("--health-file") + 1]
    assert check[check.index("--health-file") + 1] == written
    port = relay["command"][relay["command"].index("--metrics-port") + 1]  # the one it asks
    assert f"127.0.0.1:{port}/metrics" in " ".join(relay["healthcheck"]["test"])
    for name in ("migrate", "http", "relay", "worker"):
        depends = services[name]["depends_on"]
        assert depends["postgres"] == {"condition": "service_healthy"}, name
        if name != "migrate":
            assert depends["kafka"] == {"condition": "service_healthy"}, name
        keys = services[name]["environment"]["DUCHA_KEYS_DIR"]
        assert f"keys:{keys}" in services[name]["volumes"], name  # one volume, every process


def test_only_the_tls_proxy_is_published_and_the_app_believes_just_it() -> None:
    import yaml

    from services.http.proxy import trusted_proxies

    services = yaml.safe_load(COMPOSE.read_text("utf-8"))["services"]
    http, proxy = services["http"], services["proxy"]
    published = {name for name, s in services.items() if s.get("ports")}
    assert published == {"proxy"} and "443:443" in proxy["ports"]
    assert trusted_proxies(http["environment"]) == 1
    assert http["environment"]["DUCHA_SECURE_COOKIES"] == "1"
    caddyfile = (COMPOSE.parent / "Caddyfile").read_text("utf-8")
    assert "reverse_proxy http:8000" in caddyfile and "--port" in http["command"]
    assert http["command"][http["command"].index("--port") + 1] == "8000"
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert (
        "tls /certs/cert.pem /certs/key.pem" in caddyfile
        and "./certs:/certs:ro" in proxy["volumes"]
    )
