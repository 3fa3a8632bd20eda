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
