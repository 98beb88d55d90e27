from django.conf import settings
from django.db import migrations


def create_body(apps, schema_editor):
    Organisation = apps.get_model("institutions", "Organisation")
    if Organisation.objects.filter(is_certification_body=True).exists():
        return
    Organisation.objects.create(
        name=settings.BODY_NAME, slug=settings.BODY_SLUG, kind="public_body", membership="active",
        is_certification_body=True, contact_name=settings.BODY_NAME, contact_email=settings.BODY_EMAIL,
    )


class Migration(migrations.Migration):
    dependencies = [("institutions", "0001_initial")]
    operations = [migrations.RunPython(create_body, migrations.RunPython.noop)]
