"""``ducha ledger …``: the verifiable ledger's commands (issue 16). May import: click,
``services.tlog``, ``services.inputs`` and ``services.cli.common`` (the platform, built only by
the commands that need it: ``verify-bundle`` runs on an auditor's laptop with no store, no
settings, no network).

``verify-bundle FILE --policy POLICY`` prints ``verified: …`` and exits 0, or prints one line
saying what failed and exits 1; a missing file or an unreadable policy is a usage error (exit
2). The platform's commands: ``checkpoint``, ``witness``, ``prove``, ``verify`` (a bundle
against the keys the registry knows), ``policy``, ``audit`` (the tamper drill: exit 1 naming
the first index that differs), ``alerts`` and ``rotate-key``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from services.cli.common import Context, json_option, office_option, pass_ctx
from services.inputs import china_time
from services.tlog.bundle import Bundle, BundleError
from services.tlog.checkpoint import ORIGIN_PREFIX, Checkpoint
from services.tlog.note import Note, NoteError
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


@ledger.command("checkpoint")
@office_option
@pass_ctx
def checkpoint_command(c: Context, office: str) -> int:
    """Sign the office's log as it stands now; its superior office cosigns it (exit 1 if
    it refuses)."""
    note, witnessed = c.platform.ledger.checkpoints.checkpoint_witnessed(office)
    click.echo(note.decode(), nl=False)
    if witnessed is not None and not witnessed.cosigned:
        alert = f" ALERT: {witnessed.alert}" if witnessed.alert else ""
        click.echo(f"{witnessed.witness} REFUSED ({witnessed.status}): {witnessed.reason}{alert}")
        return 1
    return 0


@ledger.command("witness")
@office_option
@pass_ctx
def witness_command(c: Context, office: str) -> int:
    """As OFFICE, cosign each subordinate office's latest checkpoint (exit 1 on a refusal)."""
    refused = 0
    for result in c.platform.ledger.checkpoints.witness_children(office):
        verdict = "cosigned" if result.cosigned else f"REFUSED ({result.status})"
        alert = f" ALERT: {result.alert}" if result.alert else ""
        click.echo(f"{result.office}: size {result.size} {verdict}: {result.reason}{alert}")
        refused += not result.cosigned
    return 1 if refused else 0


@ledger.command("prove")
@office_option
@click.option("--id", "notification_id", required=True, type=click.IntRange(min=1))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write it here.")
@pass_ctx
def prove_command(c: Context, office: str, notification_id: int, out: Path | None) -> None:
    """A .tlog-proof bundle for one notification of the office (stdout, or --out FILE)."""
    bundle = c.platform.ledger.proofs.prove(office, notification_id)
    if out is None:
        click.echo(bundle.decode(), nl=False)
    else:
        out.write_bytes(bundle)
        click.echo(f"wrote {out}", err=True)


@ledger.command("verify")
@click.argument("bundle", type=_FILE)
@pass_ctx
def verify_command(c: Context, bundle: Path) -> int:
    """Check a BUNDLE against the keys this platform registered for its office."""
    data = bundle.read_bytes()
    try:
        origin = Checkpoint.parse(Note.parse(Bundle.parse(data).checkpoint).text).origin
    except (BundleError, NoteError) as e:
        click.echo(f"not verified: {e}", err=True)
        return 1
    if not origin.startswith(ORIGIN_PREFIX):
        click.echo(f"not verified: {origin!r} is not a log of this platform", err=True)
        return 1
    policy = Policy.parse(c.platform.ledger.proofs.policy(origin[len(ORIGIN_PREFIX) :]))
    verdict = verify_bundle(data, policy)
    click.echo(verdict.message if verdict.ok else f"not verified: {verdict.message}")
    return 0 if verdict.ok else 1


@ledger.command("policy")
@office_option
@pass_ctx
def policy_command(c: Context, office: str) -> None:
    """A policy file for 'ducha ledger verify-bundle': the office's keys, its witnesses'."""
    click.echo(c.platform.ledger.proofs.policy(office), nl=False)


@ledger.command("audit")
@office_option
@pass_ctx
def audit_command(c: Context, office: str) -> int:
    """The tamper drill: every leaf recomputed from the store against the tiles and the
    last cosigned checkpoint (exit 1 naming the first index that differs)."""
    result = c.platform.ledger.proofs.audit(office)
    if result.ok:
        click.echo(f"ok: {result.message}")
        return 0
    click.echo(f"TAMPERED: {office}: {result.message}", err=True)
    return 1


@ledger.command("alerts")
@click.option("--office", metavar="CODE", help="Only this office's alerts as a witness.")
@json_option
@pass_ctx
def alerts_command(c: Context, office: str | None, as_json: bool) -> None:
    """What witnesses refused and why (newest first; times in China time)."""
    alerts = c.platform.ledger.checkpoints.alerts(office)
    if as_json:
        click.echo(json.dumps([a.__dict__ for a in alerts], ensure_ascii=False, indent=2))
        return
    for a in alerts:
        click.echo(f"{china_time(a.at)}  {a.witness} refused {a.origin} ({a.status}): {a.alert}")
    click.echo(f"-- {len(alerts)} alert(s)", err=True)


@ledger.command("rotate-key")
@office_option
@click.option("--purpose", type=click.Choice(["log", "witness"]), default="log", show_default=True)
@pass_ctx
def rotate_key_command(c: Context, office: str, purpose: str) -> None:
    """A new key for the office (the old file kept, its key still known): prints its vkey."""
    click.echo(c.platform.ledger.keys.rotate(office, purpose))


COMMANDS = [ledger]
