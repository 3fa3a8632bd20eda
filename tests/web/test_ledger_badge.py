"""The verifiable ledger on the screens: the item page and the public item page say, for the
record's latest event (the public page: its latest published step), "verified against
checkpoint N, cosigned by …" with office names in Chinese (and the public site once the office
publishes), or honestly that no checkpoint covers it yet; the proof bundle's link works for
whom it is shown and its bundle verifies offline; admins see the witnesses' alert count linking
to the list, nobody else does."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from services.ledger_keys import witness_name
from services.tlog.checkpoint import Checkpoint, origin_for
from services.tlog.verify import Policy, verify_bundle
from services.tlog.witness import Request
from tests.web.conftest import Screens, token
from tests.web.test_public import act, publish, register

SUPERIOR = "国务院办公厅"
LINK = re.compile(r'href="(/log/gansu/proof/([0-9]+))"')


def latest_position(screens: Screens, record: str) -> int:
    rows = screens.api.platform.read.all(
        "SELECT MAX(position) AS p FROM audit WHERE office = 'gansu' AND record_id = ?", (record,)
    )
    return int(rows[0]["p"])


def verifies(screens: Screens, bundle: bytes) -> tuple[str, ...]:
    policy = Policy.parse(screens.api.platform.ledger.proofs.policy("gansu"))
    verdict = verify_bundle(bundle, policy)
    assert verdict.ok, verdict.message
    return verdict.witnesses


def test_the_item_page_says_which_checkpoint_covers_the_latest_event(screens: Screens) -> None:
    record = register(screens, "关于台账验证的事项")
    client = screens.signed_in("gansu", "supervisor")
    page = client.get(f"/items/gansu/{record}")
    assert page.status_code == 200
    assert "尚未生成检查点" in page.text and not LINK.search(page.text)
    checkpoints = screens.api.platform.ledger.checkpoints
    checkpoints.checkpoint("gansu")
    page = client.get(f"/items/gansu/{record}")
    size = latest_position(screens, record)
    assert f"已验证：检查点 {size}，由 {SUPERIOR} 联署" in page.text
    found = LINK.search(page.text)
    assert found and int(found.group(2)) == size
    bundle = client.get(found.group(1))  # the session is enough: no token
    assert bundle.status_code == 200 and verifies(screens, bundle.data) == ("state-council",)
    client.post("/language", data={"language": "en", "csrf_token": token(client, "/desk")})
    english = client.get(f"/items/gansu/{record}")
    assert f"Verified against checkpoint {size}, cosigned by {SUPERIOR}" in english.text
    act(screens, "gansu", record, "acknowledge", "clerk")  # a newer event, not yet covered
    assert "No checkpoint covers the latest event yet" in client.get(f"/items/gansu/{record}").text


def test_the_link_is_shown_only_to_whom_the_proof_route_answers(screens: Screens) -> None:
    record = register(screens, "关于链接的事项")
    screens.api.platform.ledger.checkpoints.checkpoint("gansu")
    clerk = screens.signed_in("gansu", "clerk")
    page = clerk.get(f"/items/gansu/{record}")
    assert "已验证：检查点" in page.text and not LINK.search(page.text)
    position = latest_position(screens, record)
    assert clerk.get(f"/log/gansu/proof/{position}").status_code == 404


def test_the_public_page_names_the_public_site_once_it_cosigned(screens: Screens) -> None:
    record = register(screens, "关于公开验证的事项")
    publish(screens, "gansu", record)
    client = screens.client()
    path = f"/public/items/gansu/{record}"
    first = client.get(path)
    assert "尚未生成检查点" in first.text and not LINK.search(first.text)
    screens.api.platform.ledger.checkpoints.checkpoint("gansu")
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200  # the badge changed: not "not modified"
    size = latest_position(screens, record)
    assert f"已验证：检查点 {size}，由 {SUPERIOR}、公开网站 联署" in again.text
    found = LINK.search(again.text)
    assert found and int(found.group(2)) == size  # the Published step
    bundle = client.get(found.group(1))  # anyone: no session, no token
    assert bundle.status_code == 200
    assert set(verifies(screens, bundle.data)) == {"state-council", "public-witness"}
    english = client.get(f"{path}?lang=en")
    assert "cosigned by 国务院办公厅, the public site" in english.text


def test_admins_see_the_witness_alert_count_linking_to_the_list(screens: Screens) -> None:
    platform = screens.api.platform
    record = register(screens, "关于告警的事项")
    act(screens, "gansu", record, "acknowledge", "clerk")  # two events: a tree of 2
    checkpoints = platform.ledger.checkpoints
    checkpoints.checkpoint("gansu")
    admin = screens.signed_in("state-council", "admin")
    assert re.search(
        r'href="/ledger-alerts"[^>]*>[^<]*<span[^>]*>0</span>', admin.get("/desk").text
    )
    smaller = platform.ledger.keys.signer("gansu").note(
        Checkpoint(origin_for("gansu"), 1, checkpoints.root("gansu", 1)).text
    )
    name = witness_name("state-council")
    stored = checkpoints.state(name, origin_for("gansu"))
    assert stored is not None
    request = Request.make(stored.size, [], smaller)
    cosigner = platform.ledger.keys.cosigner("state-council")
    answer = checkpoints.submit(name, cosigner, request, checkpoints.follows("state-council"))[1]
    assert answer.status == 400 and answer.alert  # a smaller tree: refused, and an alert
    desk = admin.get("/desk").text
    assert re.search(r'href="/ledger-alerts"[^>]*>[^<]*<span[^>]*>1</span>', desk)
    listing = admin.get("/ledger-alerts")
    assert listing.status_code == 200
    assert "ducha-witness/state-council" in listing.text and "smaller tree" in listing.text
    supervisor: FlaskClient = screens.signed_in("gansu", "supervisor")
    assert "/ledger-alerts" not in supervisor.get("/desk").text
    assert supervisor.get("/ledger-alerts").status_code == 404
