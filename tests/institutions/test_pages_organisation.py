"""The portal's organisation page (/portal/organisation/): everyone on a member organisation's staff
sees it; its owners upload, replace and remove the logo there, through
institutions.services.organisation_set_logo (checked, audited, the registry refreshed). A refused
file is a 400 with the reason on the field and the stored logo as it was; anyone but an owner is
refused and nothing changes."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from endorsement.audit import AuditAction
from endorsement.models import AuditEvent
from endorsement.registry import registry_current, registry_refresh
from institutions.models import Organisation, Role
from tests.factories import OrganisationFactory, manager, png_bytes, staff
from tests.institutions.test_logo import SCRIPTED, SVG

pytestmark = pytest.mark.django_db
PAGE = "/portal/organisation/"


def logo_events() -> int:
    return AuditEvent.objects.filter(action=AuditAction.ORGANISATION_LOGO_SET).count()


@pytest.fixture
def owned(client):
    organisation = OrganisationFactory()
    owner = staff(organisation, Role.OWNER)
    client.force_login(owner)
    return organisation, owner


def upload(client, name: str, data: bytes):
    return client.post(reverse("portal:organisation_logo_upload"), {"logo": SimpleUploadedFile(name, data)})


def test_an_owner_uploads_replaces_and_removes_the_logo_and_the_registry_follows(
        client, owned, settings, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    organisation, owner = owned
    registry_refresh()
    assert reverse("portal:organisation") == PAGE
    page = client.get(PAGE).content.decode()
    assert "No logo yet." in page and "Upload the logo" in page and "Remove the logo" not in page

    with django_capture_on_commit_callbacks(execute=True):
        saved = upload(client, "logo.png", png_bytes())
    assert saved.status_code == 302 and saved["Location"] == PAGE
    organisation.refresh_from_db()
    assert organisation.logo.name.endswith(".png")
    event = AuditEvent.objects.get(action=AuditAction.ORGANISATION_LOGO_SET)
    assert event.actor == owner and event.data["before"] == "" and len(event.data["sha256"]) == 64
    preview = client.get(reverse("portal:organisation_logo"))
    assert preview.status_code == 200 and preview.content == png_bytes()
    assert preview["Cache-Control"] == "private, no-cache" and "sandbox" in preview["Content-Security-Policy"]
    page = client.get(PAGE).content.decode()
    assert "Replace the logo" in page and "Remove the logo" in page and "Logo saved." in page

    # The registry's refresh ran at commit: its page shows the logo under a versioned address.
    profile = registry_current().organisations_by_slug[organisation.slug]
    first = profile["logo"]
    assert first.split("?")[0].endswith(f"/registry/organisations/{organisation.slug}/logo")
    public = client.get(reverse("registry:organisation", args=[organisation.slug])).content.decode()
    assert f'src="{first}"' in public.replace("&amp;", "&")
    assert client.get(reverse("registry:organisation_logo", args=[organisation.slug])).content == png_bytes()

    with django_capture_on_commit_callbacks(execute=True):
        assert upload(client, "logo.svg", SVG).status_code == 302
    replaced = registry_current().organisations_by_slug[organisation.slug]["logo"]
    assert replaced != first and Organisation.objects.get(pk=organisation.pk).logo.name.endswith(".svg")
    assert b"<rect" in client.get(reverse("registry:organisation_logo", args=[organisation.slug])).content

    with django_capture_on_commit_callbacks(execute=True):
        removed = client.post(reverse("portal:organisation_logo_remove"))
    assert removed.status_code == 302
    assert not Organisation.objects.get(pk=organisation.pk).logo and logo_events() == 3
    assert registry_current().organisations_by_slug[organisation.slug]["logo"] is None
    public = client.get(reverse("registry:organisation", args=[organisation.slug])).content.decode()
    assert "organisation-logo" not in public
    assert client.get(reverse("portal:organisation_logo")).status_code == 404
    assert "No logo yet." in client.get(PAGE).content.decode()


@pytest.mark.parametrize(("name", "data", "message"), [
    ("logo.svg", SCRIPTED, "script"),
    ("logo.gif", b"GIF89a....", "PNG or an SVG"),
])
def test_a_refused_file_is_a_400_on_the_field_and_the_old_logo_stays(client, owned, name, data, message):
    organisation, _owner = owned
    assert upload(client, "logo.png", png_bytes()).status_code == 302
    organisation.refresh_from_db()
    before, events = organisation.logo.name, logo_events()
    refused = upload(client, name, data)
    assert refused.status_code == 400
    errors = refused.context["form"].errors["logo"]
    assert message.lower() in " ".join(errors).lower()
    assert 'id="id_logo_error"' in refused.content.decode()
    organisation.refresh_from_db()
    assert organisation.logo.name == before and logo_events() == events


def test_a_logo_over_the_limit_and_a_missing_file_are_refused(client, owned, settings):
    organisation, _owner = owned
    settings.MAX_LOGO_BYTES = 1000
    too_large = upload(client, "logo.png", png_bytes(pad_to=2000))
    assert too_large.status_code == 400
    assert "the limit is 1,000 bytes" in too_large.context["form"].errors["logo"][0]
    missing = client.post(reverse("portal:organisation_logo_upload"), {})
    assert missing.status_code == 400 and missing.context["form"].errors["logo"]
    assert not Organisation.objects.get(pk=organisation.pk).logo and logo_events() == 0


@pytest.mark.parametrize("role", [Role.EDITOR, Role.ISSUER])
def test_editors_and_issuers_see_the_page_but_may_not_change_the_logo(client, role):
    organisation = OrganisationFactory()
    owner = staff(organisation, Role.OWNER)
    client.force_login(owner)
    assert upload(client, "logo.png", png_bytes()).status_code == 302
    stored = Organisation.objects.get(pk=organisation.pk).logo.name
    client.force_login(staff(organisation, role))
    page = client.get(PAGE)
    html = page.content.decode()
    assert page.status_code == 200 and "Only the organisation's owners change its logo." in html
    assert "Replace the logo" not in html and 'enctype="multipart/form-data"' not in html
    assert client.get(reverse("portal:organisation_logo")).status_code == 200  # the staff see it
    refused = upload(client, "logo.svg", SVG)
    assert refused.status_code == 403 and "Only the organisation's owners" in refused.content.decode()
    removed = client.post(reverse("portal:organisation_logo_remove"), follow=True)
    assert "Only the organisation&#x27;s owners" in removed.content.decode()
    assert Organisation.objects.get(pk=organisation.pk).logo.name == stored and logo_events() == 1


def test_the_body_s_staff_and_another_organisation_s_owner_have_no_such_page(client):
    organisation = OrganisationFactory()
    client.force_login(staff(organisation, Role.OWNER))
    assert upload(client, "logo.png", png_bytes()).status_code == 302
    client.force_login(manager())
    assert client.get(PAGE).status_code == 404
    assert client.get(reverse("portal:organisation_logo")).status_code == 404
    assert upload(client, "logo.svg", SVG).status_code == 404
    other = OrganisationFactory()
    client.force_login(staff(other, Role.OWNER))
    assert client.get(reverse("portal:organisation_logo")).status_code == 404  # its own: none
    assert upload(client, "logo.svg", SVG).status_code == 302
    assert Organisation.objects.get(pk=organisation.pk).logo.name.endswith(".png")  # untouched


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.post(reverse("portal:organisation_logo_upload")).status_code == 302


def test_the_page_in_japanese(client, owned):
    organisation, _owner = owned
    html = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "ロゴ" in html and organisation.name_ja in html
