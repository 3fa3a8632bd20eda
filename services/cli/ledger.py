"""``ducha ledger …``: the verifiable ledger's commands (issue 16). May import: click and
``services.tlog`` (nothing of the platform: ``verify-bundle`` runs on an auditor's laptop with no
store, no settings, no network).

So far the offline verifier alone: ``ducha ledger verify-bundle FILE --policy POLICY`` prints
``verified: …`` and exits 0, or prints one line saying what failed and exits 1; a missing file or
an unreadable policy is a usage error (exit 2). ``checkpoint``, ``witness``, ``prove`` and
``audit`` come with the stores' integration.
"""

from __future__ import annotations

from pathlib import Path

import click

from services.tlog.verify import Policy, PolicyError, verify_bundle

_FILE = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)


@click.group("ledger")
def ledger() -> None:
    """The verifiable ledger: Merkle proofs of each office's history (see the README)."""


@ledger.command("verify-bundle")
@click.argument("bundle", type=_FILE)
@click.option("--policy", "policy_file", required=True, type=_FILE, help="Trusted keys and quorum.")
@click.option("--entry", "entry_file", type=_FILE, help="The leaf data, if you hold it apart.")
def verify_bundle_command(bundle: Path, policy_file: Path, entry_file: Path | None) -> int:
    """Check a .tlog-proof BUNDLE offline against a POLICY of trusted keys (see the README)."""
    try:
        policy = Policy.parse(policy_file.read_text(encoding="utf-8"))
    except (PolicyError, UnicodeDecodeError) as e:
        raise click.UsageError(f"policy {policy_file}: {e}") from e
    entry = entry_file.read_bytes() if entry_file else None
    verdict = verify_bundle(bundle.read_bytes(), policy, entry)
    if verdict.ok:
        click.echo(verdict.message)
        return 0
    click.echo(f"not verified: {verdict.message}", err=True)
    return 1


COMMANDS = [ledger]
