"""The offline verifier runs on an auditor's laptop: ``services/tlog`` imports nothing but the
standard library, ``cryptography`` and itself, and every module says so."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).parents[2] / "services" / "tlog"


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import"
            names.add(node.module or "")
    return names


def allowed(name: str) -> bool:
    top = name.split(".")[0]
    return (
        top in sys.stdlib_module_names
        or top == "cryptography"
        or name == "services.tlog"
        or name.startswith("services.tlog.")
    )


def test_the_package_imports_only_the_standard_library_and_cryptography() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) >= 10
    seen: set[str] = set()
    for path in modules:
        names = imported(path)
        seen |= names
        assert all(allowed(name) for name in names), (path.name, sorted(names))
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        assert "May import:" in " ".join(docstring.split()), path.name
    assert "services.tlog.note" in seen and any(n.startswith("cryptography") for n in seen)


def loaded_after(statement: str) -> set[str]:
    code = f"{statement}; import sys; print('\\n'.join({{m.split('.')[0] for m in sys.modules}}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_the_verifier_loads_without_the_platform() -> None:
    """Importing the core pulls in no third-party module but cryptography (with the cffi and
    OpenSSL bindings it loads itself)."""
    baseline = loaded_after("pass")
    modules = "services.tlog.verify, services.tlog.tiles, services.tlog.witness"
    loaded = loaded_after(f"import {modules}, services.tlog.envelope") - baseline
    ours = {"cryptography", "services", "_cffi_backend", "_openssl"}
    foreign = {m for m in loaded if m not in sys.stdlib_module_names and m not in ours}
    assert foreign == set()
    assert {"cryptography", "services"} <= loaded
