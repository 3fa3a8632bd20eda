"""The image installs exactly what ``deploy/requirements.lock`` pins, and the pins satisfy
``pyproject.toml``: a dependency added or tightened without ``make lock`` fails here."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parents[1]
LOCK = ROOT / "deploy" / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s\\;]+)", re.MULTILINE)


def pins() -> dict[str, str]:
    return {canonicalize_name(n): v for n, v in PIN.findall(LOCK.read_text("utf-8"))}


def project() -> dict[str, list[str]]:
    spec = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    return {"runtime": spec["dependencies"], "dev": spec["optional-dependencies"]["dev"]}


def test_every_runtime_dependency_is_pinned_within_its_range() -> None:
    pinned = pins()
    for line in project()["runtime"]:
        wanted = Requirement(line)
        name = canonicalize_name(wanted.name)
        assert name in pinned, f"{name} is not in the lock: run make lock"
        assert wanted.specifier.contains(pinned[name], prereleases=True), (name, pinned[name])


def test_the_lock_carries_no_dev_tools_and_a_hash_for_every_pin() -> None:
    pinned = pins()
    dev = {canonicalize_name(Requirement(line).name) for line in project()["dev"]}
    assert not dev & set(pinned), dev & set(pinned)
    blocks = re.split(r"\n(?=[A-Za-z0-9_.\-]+==)", LOCK.read_text("utf-8"))
    requirements = [b for b in blocks if PIN.match(b)]
    assert len(requirements) == len(pinned) > 20
    for block in requirements:
        assert "--hash=sha256:" in block, block.splitlines()[0]


def test_the_image_installs_the_lock_with_hashes_and_compiles_the_catalogs() -> None:
    text = (ROOT / "deploy" / "Dockerfile").read_text("utf-8")
    assert "--require-hashes --no-deps -r deploy/requirements.lock" in text
    assert "pip install --no-deps ." in text  # ducha itself, nothing unpinned beside it
    assert text.index("pybabel compile") < text.index("pip install --no-deps .")


def test_the_build_context_holds_sources_only() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "**"  # deny everything, then allow the sources by name
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {
        "pyproject.toml",
        "README.md",
        "domain",
        "services",
        "projections",
        "deploy/requirements.lock",
    }
    for secret in ("**/*.key", "**/*tokens*", "**/*.sqlite*"):
        assert secret in lines  # re-excluded inside the allowed trees
