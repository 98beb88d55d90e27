"""The registry index's results rows, built in Python (registry_views._result_rows), are the HTML
the template rendered before, byte for byte, in English and Japanese, in force or not, with and
without the optional fields."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from django.template import engines
from django.urls import reverse
from django.utils import timezone, translation

from endorsement import registry_views
from endorsement.models import RegistryEntry
from endorsement.registry import item_of, registry_current
from tests.endorsement.test_registry_incremental import searchable  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db

# The loop of templates/registry/_index_body.html before the rows were built in Python (kept as it was).
TEMPLATE_ROWS = (Path(__file__).parent / "registry_rows_before.html").read_text()


def _variants(now) -> list[dict]:
    """Every entry as shown, then each again with the optional parts changed: not in force, a level
    framework and an achievement type with markup to escape, no level, no hours."""
    shown = [registry_views._display(item_of(row), now) for row in RegistryEntry.objects.order_by("pk")
             .values_list(*registry_views.ITEM_COLUMNS)]
    changed = []
    for n, item in enumerate(shown):
        other = copy.deepcopy(item)
        other["standing"] = registry_views._standing(("suspended", "revoked", "expired")[n % 3])
        programme = other["entry"]["programme"]
        programme["level_framework"] = "EQF <b>&</b> \"NQF\""
        programme["achievement_type"] = ("Certificate", "MicroCredential", "<i>own</i>")[n % 3]
        programme.pop("level", None) if n % 2 else programme.update(level="Level <5>")
        programme["learning_hours"] = (None, "12.50", 7)[n % 3]
        other["name"], other["name_lang"] = "Name <&> 'quoted'", ("ja", "en", "")[n % 3]
        changed.append(other)
    return shown + changed


@pytest.mark.parametrize("language", ["en", "ja"])
def test_rows_built_in_python_are_the_template_rows(searchable, language):  # noqa: F811
    assert registry_current() is not None
    now = timezone.now()
    with translation.override(language):
        results = _variants(now)
        assert len(results) == 6
        expected = engines["django"].from_string(TEMPLATE_ROWS).render({"results": results})
        for item in results:
            item["image_path"] = reverse("registry:image_png", args=[item["id"]])
        built = registry_views._result_rows(results, registry_views._row_labels())
    assert expected == "\n  " + built
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in built and "Name &lt;&amp;&gt; &#x27;quoted&#x27;" in built
