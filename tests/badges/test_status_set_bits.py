"""Which bits a status list publishes (`badges.status._set_indices`): every owner registered for the
list's purpose is asked, and a purpose with no owner is refused rather than published all clear."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from badges import status
from badges.models import StatusList


def test_the_indices_of_every_owner_of_the_purpose_are_set_in_their_order(monkeypatch) -> None:
    seen: list[StatusList] = []

    def awards(status_list: StatusList) -> list[int]:
        seen.append(status_list)
        return [5, 1]

    def endorsements(status_list: StatusList) -> tuple[int, ...]:
        return (9,)

    monkeypatch.setitem(status._SET_BITS, "test-purpose", [awards, endorsements])
    monkeypatch.setitem(status._SET_BITS, "other-purpose", [lambda _list: [77]])
    status_list = StatusList(purpose="test-purpose", number=1)
    assert status._set_indices(status_list) == [5, 1, 9]
    assert seen == [status_list]


@pytest.mark.parametrize("owners", [None, []])
def test_a_purpose_without_an_owner_is_refused(monkeypatch, owners) -> None:
    if owners is None:
        monkeypatch.delitem(status._SET_BITS, "test-purpose", raising=False)
    else:
        monkeypatch.setitem(status._SET_BITS, "test-purpose", owners)
    with pytest.raises(ImproperlyConfigured) as refused:
        status._set_indices(StatusList(purpose="test-purpose", number=1))
    assert str(refused.value) == "no owner of test-purpose status entries is registered"

