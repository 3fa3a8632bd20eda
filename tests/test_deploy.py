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
    for name in ("http", "relay", "worker"):
        command = services[name]["command"]
        group = cli.commands[command[0]]
        leaf = group.commands[command[1]] if hasattr(group, "commands") else group  # type: ignore[attr-defined]
        known = {opt for p in leaf.params for opt in p.opts}
        given = {a for a in command if a.startswith("--")}
        assert given <= known, (name, given - known)
        env = services[name]["environment"]
        assert env["DUCHA_BUS"] == "kafka" and env["DUCHA_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env["DUCHA_DATABASE_URL"].startswith("postgresql://")
    assert services["worker"]["deploy"]["replicas"] == 2
