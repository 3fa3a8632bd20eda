"""Records found by the beginning of their id (the CLI's short ids), on both backends."""

from __future__ import annotations

from services.bootstrap import Platform
from tests.scenario import new_item, person


def test_ids_are_found_by_their_beginning_and_wildcards_mean_nothing(ducha: Platform) -> None:
    item = ducha.supervision.register_item(person("gansu"), "gansu", new_item())
    assert ducha.views.ids_starting("gansu", item.id[:6]) == [item.id]
    assert ducha.views.ids_starting("gansu", "%") == []
    assert ducha.views.ids_starting("gansu", "_" * 6) == []
    assert ducha.views.ids_starting("baiyin", item.id[:6]) == []
