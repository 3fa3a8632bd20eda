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


def test_the_image_runs_an_existing_cli_command() -> None:
    assert instruction("ENTRYPOINT") == ["ducha"]
    group, command = instruction("CMD")[:2]
    assert command in cli.commands[group].commands  # type: ignore[attr-defined]


def test_the_image_copies_every_package_it_installs() -> None:
    text = DOCKERFILE.read_text("utf-8")
    for package in ("domain", "services", "projections"):
        assert f"COPY {package} ./{package}" in text
