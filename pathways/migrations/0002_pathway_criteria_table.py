"""Seed the default pathway criteria table (pathways/data/pathway-criteria-table.json) as published v1."""

import json
from pathlib import Path

from django.db import migrations
from django.utils import timezone

DATA = Path(__file__).resolve().parent.parent / "data" / "pathway-criteria-table.json"


def seed(apps, schema_editor):
    CriteriaTable = apps.get_model("endorsement", "CriteriaTable")
    Criterion = apps.get_model("endorsement", "Criterion")
    spec = json.loads(DATA.read_text(encoding="utf-8"))
    if CriteriaTable.objects.filter(code=spec["code"], version=spec["version"]).exists():
        return
    table = CriteriaTable.objects.create(
        code=spec["code"], version=spec["version"], subject=spec["subject"], title_en=spec["title"]["en"],
        title_ja=spec["title"]["ja"], rule=spec["rule"], status="published", published_at=timezone.now(),
    )
    # Historical models have no custom save(): the frozen-table guard does not apply while seeding.
    Criterion.objects.bulk_create([
        Criterion(table=table, code=c["code"], position=i, required=c["required"],
                  title_en=c["en"]["title"], title_ja=c["ja"]["title"],
                  guidance_en=c["en"]["guidance"], guidance_ja=c["ja"]["guidance"])
        for i, c in enumerate(spec["criteria"], start=1)
    ])


class Migration(migrations.Migration):
    dependencies = [("pathways", "0001_pathways_components_rules"),
                    ("endorsement", "0010_applications_and_endorsements_of_pathways")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
