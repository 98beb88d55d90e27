"""Tags that RDFC-1.0 and JavaScript's UTF-16 sort would order differently are refused, since badges
carrying them would fail in Digital Bazaar's verifier (see tests/interop)."""

import pytest

from badges.models import Programme
from badges.services import programme_create, tags_sort_alike
from config.errors import InvalidInput
from institutions.models import Role
from tests.factories import COMPLETE_PROGRAMME, OrganisationFactory, staff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("tags", "alike"),
    [
        (["data", "business"], True),
        (["データ", "基礎", "𠮷野家"], True),  # beyond U+FFFF, but nothing from U+E000 to compare with
        (["データ（基礎）", "データ入門"], True),  # full-width, all in the BMP
        (["データ（基礎）", "データ𠮷"], False),  # U+FF08 vs U+20BB7 after a common prefix
        (["🎓 badge", "ｂadge"], False),
    ],
)
def test_tags_sort_alike_compares_code_point_and_utf16_orders(tags, alike):
    assert tags_sort_alike(tags) is alike


def test_a_programme_with_tags_that_verifiers_order_differently_is_refused_and_not_written():
    organisation = OrganisationFactory()
    editor = staff(organisation, Role.EDITOR)
    with pytest.raises(InvalidInput) as refused:
        programme_create(actor=editor, organisation=organisation,
                         data={**COMPLETE_PROGRAMME, "tags": ["データ（基礎）", "データ𠮷"]})
    assert "verifiers order differently" in refused.value.field_errors["tags"][0]
    assert not Programme.objects.exists()
