"""An organisation's logo (institutions.services.organisation_set_logo): a PNG or a cleaned SVG within
MAX_LOGO_BYTES, set by the body's managers in the admin (or by the organisation's owners); served at
/registry/organisations/<slug>/logo under a CSP that runs nothing; named as `logo_uri` in the body's
Entity Configuration and in an endorsed issuer's subordinate statement (OpenID Federation 1.0,
informational metadata). Every refusal says why on the field and leaves the stored logo as it was."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from joserfc import jwt
from joserfc.jwk import KeySet, OKPKey

from badges import credentials as vc
from config.errors import InvalidInput, NotPermitted
from endorsement.audit import AuditAction
from endorsement.models import ApplicationState, AuditEvent
from endorsement.registry import registry_refresh
from endorsement.trust import entity_configuration, subordinate_statement
from institutions.keys import did_document, organisation_did
from institutions.models import Organisation, Role
from institutions.services import organisation_set_logo
from tests.factories import PASSWORD, Cast, api_client, application_in, body, login_request, png_bytes, staff

pytestmark = pytest.mark.django_db
SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><!-- a comment -->'
       b'<rect width="10" height="10" fill="#036"/></svg>')
SCRIPTED = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
OUTSIDE = b'<svg xmlns="http://www.w3.org/2000/svg"><image href="https://tracker.example/p.png"/></svg>'


def claims(token: str) -> dict[str, Any]:
    keys = vc.assertion_keys(did_document(body()))
    key_set = KeySet([OKPKey.import_key(public, {"kid": method}) for method, public in keys.items()])
    return jwt.decode(token, key_set, algorithms=["EdDSA"]).claims


def login(user) -> Client:
    client = Client()
    assert client.login(request=login_request(), username=user.username, password=PASSWORD)
    return client


def test_a_png_logo_is_served_and_named_in_the_entity_configuration(client):
    cast = Cast()
    the_body = body()
    organisation_set_logo(actor=cast.manager, organisation=the_body, data=png_bytes())
    the_body.refresh_from_db()
    assert the_body.logo.name.endswith(".png")
    entity = claims(entity_configuration())["metadata"]["federation_entity"]
    url = reverse("registry:organisation_logo", args=[the_body.slug])
    assert entity["logo_uri"].endswith(url)
    answer = client.get(url)
    assert answer.status_code == 200 and answer["Content-Type"] == "image/png"
    assert b"".join(answer.streaming_content if answer.streaming else [answer.content]) == png_bytes()
    assert "sandbox" in answer["Content-Security-Policy"] and answer["X-Content-Type-Options"] == "nosniff"
    event = AuditEvent.objects.get(action=AuditAction.ORGANISATION_LOGO_SET)
    assert event.actor == cast.manager and len(event.data["sha256"]) == 64


def test_an_svg_is_stored_cleaned_and_an_endorsed_issuer_s_statement_names_it(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _application, cast = application_in(ApplicationState.PUBLISHED)
    owner = staff(cast.organisation, Role.OWNER)
    organisation_set_logo(actor=owner, organisation=cast.organisation, data=SVG)
    registry_refresh()
    statement = claims(subordinate_statement(organisation_did(cast.organisation)))
    url = reverse("registry:organisation_logo", args=[cast.organisation.slug])
    assert statement["metadata"]["federation_entity"]["logo_uri"].endswith(url)
    answer = client.get(url)
    assert answer.status_code == 200 and answer["Content-Type"] == "image/svg+xml"
    assert b"<rect" in answer.content and b"a comment" not in answer.content


def test_without_a_logo_there_is_no_logo_uri_and_no_logo_page(client):
    the_body = body()
    assert "logo_uri" not in claims(entity_configuration())["metadata"]["federation_entity"]
    assert client.get(reverse("registry:organisation_logo", args=[the_body.slug])).status_code == 404


@pytest.mark.parametrize(("data", "message"), [
    (SCRIPTED, "script"),
    (OUTSIDE, "outside"),
    (b"GIF89a....", "PNG or an SVG"),
    (b"", "empty"),
])
def test_an_unsafe_or_unknown_file_is_refused_and_the_old_logo_stays(data, message):
    cast = Cast()
    the_body = body()
    organisation_set_logo(actor=cast.manager, organisation=the_body, data=png_bytes())
    the_body.refresh_from_db()
    before, events = the_body.logo.name, AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as refused:
        organisation_set_logo(actor=cast.manager, organisation=the_body, data=data)
    assert message.lower() in " ".join(refused.value.field_errors["logo"]).lower()
    the_body.refresh_from_db()
    assert the_body.logo.name == before and AuditEvent.objects.count() == events


def test_a_logo_over_the_limit_is_refused(settings):
    settings.MAX_LOGO_BYTES = 1000
    cast = Cast()
    with pytest.raises(InvalidInput) as refused:
        organisation_set_logo(actor=cast.manager, organisation=body(), data=png_bytes(pad_to=2000))
    assert "the limit is 1,000 bytes" in refused.value.field_errors["logo"][0]
    assert not Organisation.objects.get(pk=body().pk).logo


def test_editors_and_other_organisations_owners_may_not_change_it():
    cast = Cast()
    for actor in (cast.editor, staff(Cast().organisation, Role.OWNER)):
        with pytest.raises(NotPermitted):
            organisation_set_logo(actor=actor, organisation=cast.organisation, data=png_bytes())
    assert not Organisation.objects.get(pk=cast.organisation.pk).logo
    assert not AuditEvent.objects.filter(action=AuditAction.ORGANISATION_LOGO_SET).exists()


def test_a_manager_uploads_it_in_the_admin_and_a_scripted_svg_is_refused_on_the_field():
    cast = Cast()
    the_body = body()
    client = login(cast.manager)
    page = reverse("admin:institutions_organisation_change", args=[the_body.pk])
    form = client.get(page).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name in form.fields}
    data.update({"StaffMember_set-TOTAL_FORMS": "0", "StaffMember_set-INITIAL_FORMS": "0"})
    inline_prefixes = [f.formset.prefix for f in client.get(page).context["inline_admin_formsets"]]
    for prefix in inline_prefixes:
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    refused = client.post(page, {**data, "logo": SimpleUploadedFile("logo.svg", SCRIPTED, "image/svg+xml")})
    assert refused.status_code == 200 and "script" in refused.content.decode().lower()
    the_body.refresh_from_db()
    assert not the_body.logo
    saved = client.post(page, {**data, "logo": SimpleUploadedFile("logo.svg", SVG, "image/svg+xml")})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    the_body.refresh_from_db()
    assert the_body.logo.name.endswith(".svg")
    assert AuditEvent.objects.filter(action=AuditAction.ORGANISATION_LOGO_SET, actor=cast.manager).count() == 1


def test_an_owner_sets_and_removes_it_through_the_api_and_a_bad_one_is_a_400_on_logo(settings):
    cast = Cast()
    owner = staff(cast.organisation, Role.OWNER)
    client = api_client(owner)
    answer = client.put("/api/v1/organisation/logo", {"logo": SimpleUploadedFile("l.png", png_bytes())},
                        format="multipart")
    assert answer.status_code == 200, answer.content
    assert answer.json()["logo_uri"].endswith(f"/registry/organisations/{cast.organisation.slug}/logo")
    stored = Organisation.objects.get(pk=cast.organisation.pk).logo.name
    refused = client.put("/api/v1/organisation/logo", {"logo": SimpleUploadedFile("l.svg", SCRIPTED)},
                         format="multipart")
    assert refused.status_code == 400 and "script" in refused.json()["errors"]["logo"][0].lower()
    settings.MAX_LOGO_BYTES = 100
    too_large = client.put("/api/v1/organisation/logo", {"logo": SimpleUploadedFile("l.png", png_bytes(pad_to=500))},
                           format="multipart")
    assert too_large.status_code == 400 and "the limit is 100 bytes" in too_large.json()["errors"]["logo"][0]
    missing = client.put("/api/v1/organisation/logo", {}, format="multipart")
    assert missing.status_code == 400 and list(missing.json()["errors"]) == ["logo"]
    assert Organisation.objects.get(pk=cast.organisation.pk).logo.name == stored
    assert api_client(cast.editor).delete("/api/v1/organisation/logo").status_code == 403
    assert Organisation.objects.get(pk=cast.organisation.pk).logo.name == stored
    removed = client.delete("/api/v1/organisation/logo")
    assert removed.status_code == 200 and removed.json() == {"logo_uri": None}
    assert not Organisation.objects.get(pk=cast.organisation.pk).logo
