"""Every page, in English and in Japanese: no page is wider than a 390 px phone, and axe-core finds
no accessibility violation at 1280 px.

The pages come from the URLconf: `page_list` walks every pattern and gives each one either the
person who opens it and its arguments (`PAGES`, and every admin page of every registered model), or
the reason it is not a page (`NOT_PAGES`: JSON, images, POST-only actions). A new pattern in neither
fails `test_every_url_pattern_is_a_visited_page_or_says_why_not`, so a new page is not forgotten.

The data is the demo (`manage.py seed_demo`) plus what makes pages long: a programme with a long
Japanese name and long URLs, badges for a long DID, a batch, a report, a concern, a quality
review and a pending invitation. One Chromium serves the whole visit (one context per person);
one test visits every page in both languages (the demo is built once) and reports every failure at
once (language, page, and for axe the rule id and the target), so one run shows all that is left to fix.
`EVERY_PAGE_SHOTS=1` also saves a 390 px screenshot of every page under
test-output/screenshots/every-page-<language>/, to look at.

axe-core comes from npm, pinned by tests/browser/package-lock.json (`npm ci --prefix tests/browser`,
as .ci/run does); without it, or without Chromium, the tests skip (fail under CI=true).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.browser.conftest import CHROMIUM_ARGS, NAVIGATION_TIMEOUT_MS, SCREENSHOTS, _playwright_api
from tests.conftest import need
from tests.factories import Cast, ProgrammeFactory, application_in, login_request

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
LANGUAGES = ["en", "ja"]

LONG_NAME_EN = ("Practical data science and evidence-based decision making for small and medium-sized "
                "manufacturing enterprises (advanced, blended learning)")
LONG_NAME_JA = ("中小製造業のための実践的データサイエンスとエビデンスに基づく意思決定"
                "（上級・オンライン併用型）プログラム")
LONG_URL = ("https://www.minato-u.example.jp/recurrent-education/programmes/2026/"
            "practical-data-science-for-manufacturing-enterprises/syllabus-and-assessment-criteria.html")
LONG_DID = "did:web:learners.example.org:people:hanako-yamada-2026-data-science-cohort-b:" + "a1b2c3d4" * 6

# Patterns that are not HTML pages, or not pages of their own (by name; "admin:" ones are Django's).
NOT_PAGES: dict[str, str] = {
    "set_language": "POST only (the language switch)",
    "logout": "POST only",
    "portal:application_new": "POST only",
    "portal:endorsement_renew": "POST only",
    "portal:staff_invite": "POST only",
    "portal:staff_role": "POST only",
    "portal:staff_remove": "POST only",
    "portal:invitation_revoke": "POST only",
    "portal:organisation_logo": "a PNG or SVG image (the staff's preview of their organisation's logo)",
    "portal:organisation_logo_upload": "POST only (the form is on the organisation page)",
    "portal:organisation_logo_remove": "POST only (the button is on the organisation page)",
    "portal:webhook_rotate": "POST only",
    "portal:webhook_enabled": "POST only",
    "portal:webhook_delete": "POST only",
    "portal:webhook_replay": "POST only",
    "portal:webhook_test": "POST only",
    "awards:batch_restart": "POST only",
    "awards:revoke": "POST only (the confirmation is on the award's page)",
    "registry:mark_svg": "an SVG image",
    "registry:mark_html": "an embeddable fragment for other sites, not a page of this site",
    "registry:image_png": "a PNG image",
    "registry:organisation_logo": "a PNG or SVG image (an organisation's logo)",
    "registry:feed": "an Atom feed",
    "registry:json": "JSON",
    "registry:csv": "CSV",
    "registry:sitemap": "XML",
    "registry:trust_list": "a signed credential (JSON-LD)",
    "awards:badge_json": "JSON-LD",
    "awards:badge_png": "a PNG image",
    "awards:badge_svg": "an SVG image",
    "awards:badge_certificate": "a PDF (the certificate)",
    "learners:sign_out": "POST only",
    "learners:visibility": "POST only (the buttons are on the account page)",
    "learners:address_add": "POST only (the form is on the account page)",
    "learners:language": "POST only (the form is on the account page)",
    "learners:download": "a zip of the learner's badges",
    "learners:access_revoke": "POST only (the buttons are on the connected wallets page)",
    "obapi:discovery": "JSON (the OB 3.0 service description document)",
    "obapi:register": "POST only, JSON (RFC 7591 registration)",
    "obapi:authorize": "needs an application's signed-in request: tests/browser/test_wallet_consent.py, both languages",
    "obapi:token": "POST only, JSON (OAuth 2.0 token endpoint)",
    "obapi:revoke": "POST only (OAuth 2.0 token revocation)",
    "obapi:credentials": "JSON (the OB 3.0 API, bearer token)",
    "obapi:profile": "JSON (the OB 3.0 API, bearer token)",
    "api-schema": "the OpenAPI schema (YAML)",
    "api-docs": "Swagger UI, a third-party page for developers",
    "admin:logout": "POST only",
    "admin:login": "logged-in staff are redirected to the admin's index",
    "admin:password_change_done": "Django's stock page after a password change",
    "admin:autocomplete": "JSON",
    "admin:jsi18n": "JavaScript",
    "admin:view_on_site": "a redirect",
    "admin:auth_user_password_change": "Django's stock form for setting another user's password",
    "admin:endorsement_issuancereport_csv": "CSV",
    "admin:badges_programme_figures_csv": "CSV",
    "portal:programme_figures_csv": "CSV",
    "registry:figures_csv": "CSV",
    "registry:pathways_csv": "CSV",
    "portal:pathway_apply": "POST only",
    "portal:pathway_transition": "POST only",
    "awards:batch_progress": "JSON (the batch page's progress)",
    "awards:batch_template": "CSV (the batch template)",
    "awards:evidence_withdraw": "POST only",
    "evidence-copy": "the archived copy of a piece of evidence, served as it was fetched",
    "pathway-credential-json": "JSON-LD (a learner's pathway badge)",
    "pathway-clr": "JSON-LD (a learner's ClrCredential)",
}
NOT_PAGE_PREFIXES = {
    "api/": "the JSON API",
    ".well-known/": "JSON-LD documents",
    "organisations/": "JSON-LD documents",
    "achievements/": "JSON-LD documents",
    "credentials/": "JSON-LD documents",
    "status/": "status lists (JSON-LD)",
    "ob2/": "the Open Badges 2.0 mirror (JSON-LD documents and a baked PNG)",
    "audit/": "JSON",
    "federation/": "OpenID Federation statements (JWT) and the list of subordinates (JSON)",
}
ADMIN_POST_ONLY = ("_button", "_assign", "_review", "_review_complete", "_conditions", "_finding")
ADMIN_MODEL_VIEWS = ("changelist", "add", "change", "history", "delete")


@dataclass
class Site:
    """What the pages are about, and the logins that open them."""

    programme: Any  # Minato University's published programme with the long names
    application: Any
    in_review: Any  # an application the demo's reviewer has to judge
    endorsement: Any
    award: Any
    withdrawable: Any  # an application of Minato University its owner may still withdraw
    batch: Any
    report: Any
    invitation_token: str
    concern: Any
    webhook: Any  # Minato University's webhook endpoint, with deliveries that failed
    logins: dict[str, str] = field(default_factory=dict)  # person -> username
    learner_tokens: dict[str, str] = field(default_factory=dict)  # claim, sign_in, address -> a link's token
    learner: Any = None  # the learner account of Taro Suzuki's badge ("learner": signed in as it)
    pathway: Any = None  # Minato University's published pathway (the long programme and another)


@dataclass
class Page:
    name: str
    path: str
    person: str  # "public", "member" (an owner of a member organisation), "manager", "reviewer" (the body's)


def url_patterns(resolver: URLResolver | None = None, prefix: str = "",
                 namespace: str = "") -> Iterator[tuple[str, str]]:
    """(namespaced name, route) of every pattern of the URLconf."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from url_patterns(pattern, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield namespace + (pattern.name or ""), prefix + str(pattern.pattern)


def _none(site: Site) -> dict[str, Any]:
    return {}


def _pid(site: Site) -> dict[str, Any]:
    return {"public_id": site.programme.public_id}


def _report(site: Site) -> dict[str, Any]:
    return {"public_id": site.programme.public_id, "report_id": site.report.public_id}


def _demo_completion() -> Any:
    """The demo learner's completed pathway (pathways.demo), owned by Minato University."""
    from pathways.completion_models import Completion
    from pathways.demo import LEARNER_EMAIL

    # The issued one: the learner's page below opens a second, open completion for the same learner.
    return Completion.objects.select_related("pathway").get(learner_email=LEARNER_EMAIL, badge__isnull=False)


_TOKENS: dict[int, str] = {}


def _learner_token() -> str:
    """A capability link's token for a learner who has presented one credential of the demo pathway
    (the demo's own link is shown once and not kept): one per demo database."""
    from pathways.completion import completion_open, credential_present
    from pathways.demo import external_badge

    completion = _demo_completion()
    if completion.pathway_id not in _TOKENS:
        owner = get_user_model().objects.get(username="owner")
        other, link = completion_open(actor=owner, pathway=completion.pathway, learner_email=completion.learner_email,
                                      learner_name="山田 花子（二回目）")
        credential_present(completion=other, component_code="informatics", credential=external_badge())
        _TOKENS[completion.pathway_id] = link.rstrip("/").rsplit("/", 1)[1]
    return _TOKENS[completion.pathway_id]


# Every page that is not the admin's: who opens it, and its URL arguments.
PAGES: dict[str, tuple[str, Callable[[Site], dict[str, Any]]]] = {
    "home": ("public", _none),
    "login": ("public", _none),
    "apply": ("public", _none),
    "apply_thanks": ("public", _none),
    "invitation_accept": ("public", lambda site: {"token": site.invitation_token}),
    "verify": ("public", _none),
    "registry:index": ("public", _none),
    "registry:programme": ("public", _pid),
    "registry:concern": ("public", _pid),
    "registry:organisation": ("public", lambda site: {"slug": site.programme.organisation.slug}),
    "registry:pathway": ("public", lambda site: {"public_id": site.pathway.public_id}),
    "portal:pathways": ("member", _none),
    "portal:pathway_new": ("member", _none),
    "portal:pathway": ("member", lambda site: {"public_id": site.pathway.public_id}),
    "portal:pathway_edit": ("member", lambda site: {"public_id": site.pathway.public_id}),
    "awards:badge": ("public", lambda site: {"public_id": site.award.public_id}),
    "learners:claim": ("public", lambda site: {"token": site.learner_tokens["claim"]}),
    "learners:sign_in": ("public", _none),
    "learners:sign_in_link": ("public", lambda site: {"token": site.learner_tokens["sign_in"]}),
    "learners:address_confirm": ("public", lambda site: {"token": site.learner_tokens["address"]}),
    "learners:account": ("learner", _none),
    "learners:delete": ("learner", _none),
    "learners:wallets": ("learner", _none),
    "portal:dashboard": ("member", _none),
    "portal:programme_new": ("member", _none),
    "portal:programme": ("member", _pid),
    "portal:programme_edit": ("member", _pid),
    "portal:application": ("member", lambda site: {"pk": site.application.pk}),
    "portal:application_transition": ("member", lambda site: {"pk": site.withdrawable.pk, "action": "withdraw"}),
    "portal:endorsement": ("member", lambda site: {"public_id": site.endorsement.public_id}),
    "portal:staff": ("member", _none),
    "portal:organisation": ("member", _none),
    "portal:account": ("member", _none),
    "portal:webhooks": ("member", _none),
    "portal:webhook": ("member", lambda site: {"public_id": site.webhook.public_id}),
    "portal:reports": ("member", _none),
    "portal:programme_reports": ("member", _pid),
    "portal:report_correct": ("member", _report),
    "portal:report_withdraw": ("member", _report),
    "awards:programme": ("member", _pid),
    "awards:new": ("member", _pid),
    "awards:batch_new": ("member", _pid),
    "awards:evidence_files": ("member", _pid),
    "awards:batch": ("member", lambda site: {"public_id": site.batch.public_id}),
    "awards:detail": ("member", lambda site: {"public_id": site.award.public_id}),
    "pathway-completion-new": ("member", lambda site: {"public_id": _demo_completion().pathway.public_id}),
    "pathway-completion-staff": ("member", lambda site: {"public_id": _demo_completion().public_id}),
    "pathway-completion-learner": ("public", lambda site: {"token": _learner_token()}),
    "pathway-credential": ("public", lambda site: {"public_id": _demo_completion().public_id}),
    "admin:index": ("manager", _none),
    "admin:password_change": ("manager", _none),
    "admin:endorsement_auditevent_verify": ("manager", _none),
}


def admin_pages(site: Site) -> list[Page]:
    """For every registered model the body's manager may see: its list, its add form, and the change,
    history and delete pages of one of its objects; each app's index; and the application's change
    page for its reviewer ("My review"). The models only a superuser sees (Django's users and groups,
    DRF's tokens, django-axes' logs) are those packages' stock pages, which body staff never open."""
    manager = get_user_model().objects.get(username=site.logins["manager"])
    request = _request(manager)
    pages: list[Page] = []
    apps_seen: set[str] = set()
    for model, model_admin in admin.site._registry.items():
        if not model_admin.has_view_or_change_permission(request):
            continue
        meta = model._meta
        instance = site.in_review if model is site.application.__class__ else (
            model_admin.get_queryset(request).order_by("-pk").first())
        if meta.app_label not in apps_seen:
            apps_seen.add(meta.app_label)
            pages.append(Page("admin:app_list", reverse("admin:app_list", args=[meta.app_label]), "manager"))
        base = f"admin:{meta.app_label}_{meta.model_name}"
        pages.append(Page(f"{base}_changelist", reverse(f"{base}_changelist"), "manager"))
        if model_admin.has_add_permission(request):
            pages.append(Page(f"{base}_add", reverse(f"{base}_add"), "manager"))
        assert instance is not None, f"the demo has no {meta.verbose_name} for the manager: add one to build_site"
        pages.append(Page(f"{base}_change", reverse(f"{base}_change", args=[instance.pk]), "manager"))
        pages.append(Page(f"{base}_history", reverse(f"{base}_history", args=[instance.pk]), "manager"))
        if model_admin.has_delete_permission(request, instance):
            pages.append(Page(f"{base}_delete", reverse(f"{base}_delete", args=[instance.pk]), "manager"))
    pages.append(Page("admin:endorsement_application_change",
                      reverse("admin:endorsement_application_change", args=[site.in_review.pk]), "reviewer"))
    return pages


def _request(user: Any) -> Any:
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def not_a_page(name: str, route: str) -> str | None:
    """Why the pattern is not visited, or None when it is a page."""
    if name == "" and route == "verify":
        return "/verify without its slash: the same view as verify/"
    if name in NOT_PAGES:
        return NOT_PAGES[name]
    for prefix, reason in NOT_PAGE_PREFIXES.items():
        if route.removeprefix("^").startswith(prefix):
            return reason
    if name.startswith("admin:"):
        if name.endswith(ADMIN_POST_ONLY):
            return "an admin action: POST only"
        if name == "admin:" and route.endswith("(?P<url>.*)$"):
            return "the admin's catch-all (404)"
        if name == "admin:" and route.endswith("<path:object_id>/"):
            return "redirects to the object's change page"
    return None


def page_list(site: Site) -> list[Page]:
    pages = [Page(name, reverse(name, kwargs=arguments(site) or None), person)
             for name, (person, arguments) in PAGES.items()]
    return pages + admin_pages(site)


def test_every_url_pattern_is_a_visited_page_or_says_why_not() -> None:
    visited = set(PAGES)
    admin_generic = {f"admin:{m._meta.app_label}_{m._meta.model_name}_{view}"
                     for m in admin.site._registry for view in ADMIN_MODEL_VIEWS} | {"admin:app_list"}
    forgotten = [f"{name or '(unnamed)'} {route}" for name, route in url_patterns()
                 if not_a_page(name, route) is None and name not in visited and name not in admin_generic]
    assert forgotten == [], "URL patterns neither visited nor listed in NOT_PAGES: " + ", ".join(forgotten)


# --- data ---------------------------------------------------------------------------------------
def build_site() -> Site:
    from badges.awards import award_issue, award_revoke
    from badges.batches import award_batch_create, award_batch_start, rows_from_csv
    from endorsement.models import Application, ApplicationState, Endorsement
    from endorsement.quality import concern_report, quality_review_open
    from endorsement.registry import registry_refresh
    from endorsement.reports import issuance_report_file, reporting_cycle_set
    from institutions.models import Organisation
    from institutions.staff import staff_invite

    call_command("seed_demo", "--force", stdout=StringIO())
    users = get_user_model().objects
    owner, manager = users.get(username="owner"), users.get(username="manager")
    minato = Organisation.objects.get(slug="minato-university")
    minato.website = LONG_URL
    minato.save(update_fields=["website"])
    # Webhook endpoints on a loopback port where nothing listens: their deliveries fail, with errors.
    from webhooks.models import BODY_EVENTS, MEMBER_EVENTS
    from webhooks.services import endpoint_create

    webhook, _secret = endpoint_create(actor=owner, organisation=minato, events=[str(e) for e in MEMBER_EVENTS],
                                       url="http://127.0.0.1:9/" + LONG_URL.split("://", 1)[1],
                                       description="学習管理システム（LMS）への通知")
    endpoint_create(actor=manager, organisation=Organisation.objects.get(is_certification_body=True),
                    url="http://127.0.0.1:9/body/cases", events=[str(e) for e in BODY_EVENTS])
    programme = ProgrammeFactory(
        organisation=minato, name_en=LONG_NAME_EN, name_ja=LONG_NAME_JA, slug="long-data-science",
        alignments=[{"name": "Data science for manufacturing", "url": LONG_URL, "framework": "DigComp 2.2"}],
    )
    application, _cast = application_in(ApplicationState.PUBLISHED, cast=Cast(organisation=minato),
                                        programme=programme)
    endorsement = Endorsement.objects.filter(application=application).get()
    award = award_issue(actor=owner, programme=programme, recipient_did=LONG_DID, recipient_name="山田 花子",
                        evidence_url=LONG_URL)
    taro = award_issue(actor=owner, programme=programme,
                       recipient_email="taro.suzuki.long.address@learners.example.org", recipient_name="Taro Suzuki")
    revoked = award_issue(actor=owner, programme=programme, recipient_email="jiro@example.org",
                          recipient_name="鈴木 次郎")
    award_revoke(actor=owner, award=revoked, reason="Issued to the wrong person.")
    batch = award_batch_create(actor=owner, programme=programme, rows=rows_from_csv(
        "email,name\nhanako@example.org,山田 花子\ntaro@example.org,Taro Suzuki\nken@example.org,Ken Sato\n"))
    award_batch_start(batch)
    with time_machine.travel(endorsement.valid_from + timedelta(days=2), tick=False):  # a period that has ended
        report = issuance_report_file(actor=owner, programme=programme, period_start=endorsement.valid_from.date(),
                                      period_end=endorsement.valid_from.date(), count=12, platform="Moodle")
    reporting_cycle_set(actor=manager, organisation=minato, months=6, starts_on=endorsement.valid_from.date())
    concern = concern_report(public_id=programme.public_id, message="The syllabus link is broken: " + LONG_URL,
                             email="worried@example.org", address="127.0.0.1")
    quality_review_open(actor=manager, endorsement=endorsement, reason="A concern about the syllabus.")
    _invitation, token = staff_invite(actor=owner, organisation=minato, email="new.editor@minato-u.example.jp",
                                      role="editor")
    staff_invite(actor=manager, organisation=Organisation.objects.get(is_certification_body=True),
                 email="new.reviewer@body.example.org", role="reviewer")
    from tests.pathways.helpers import endorsed_programmes, pathway_in

    _second, other = endorsed_programmes()
    _pathway_app, _pathway_cast, pathway = pathway_in(ApplicationState.PUBLISHED, cast=Cast(organisation=minato),
                                                      programmes=(programme, other))
    withdrawable = Application.objects.filter(programme__organisation=minato, state=ApplicationState.DRAFT).first()
    in_review = Application.objects.filter(state=ApplicationState.IN_REVIEW,
                                           reviews__reviewer__username="reviewer").first()
    registry_refresh()
    learner, learner_tokens = learner_side(taro)
    # The admin's lists of the learners' choices: a chosen mail language and a wallet's consent.
    from oauth2_provider.models import Application as OAuthApplication

    from learners.services import account_language_set
    from learners.wallets import access_granted

    account_language_set(learner, "ja")
    wallet = OAuthApplication.objects.create(
        name="Pocket Wallet", client_type=OAuthApplication.CLIENT_PUBLIC, redirect_uris="https://wallet.example/cb",
        authorization_grant_type=OAuthApplication.GRANT_AUTHORIZATION_CODE)
    access_granted(learner, wallet, ["https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly"])
    return Site(learner=learner, learner_tokens=learner_tokens,
                programme=programme, application=application, in_review=in_review,
                withdrawable=withdrawable, endorsement=endorsement,
                award=award, batch=batch, report=report, invitation_token=token, concern=concern, webhook=webhook,
                logins={"member": "owner", "manager": "manager", "reviewer": "reviewer"}, pathway=pathway)


def learner_side(award: Any) -> tuple[Any, dict[str, str]]:
    """A learner account for `award`'s address, and a live link of each kind the learner pages open."""
    from badges.claims import claim_token_new
    from learners import services
    from learners.models import LinkPurpose

    claim = claim_token_new(award)
    award.save(update_fields=["claim_token_sha256", "claim_expires_at"])
    learner = services.account_for_email(award.recipient_email)
    return learner, {"claim": claim, "sign_in": services.link_new(LinkPurpose.SIGN_IN, award.recipient_email, None),
                     "address": services.link_new(LinkPurpose.ADD_ADDRESS, "taro.other@example.org", learner)}


# --- the browser --------------------------------------------------------------------------------
@pytest.fixture
def chromium() -> Iterator[Any]:
    """One Chromium for the whole visit (one context per person and language). Function-scoped: a
    module-scoped Playwright outliving the test kept the next test's serialized rollback from
    restoring the database."""
    sync_api = _playwright_api()
    need(AXE.exists(), f"{AXE} is missing: npm ci --prefix tests/browser")
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # see tests/browser/conftest.py
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@dataclass(frozen=True)
class LearnerLogin:
    account: Any


def context_for(chromium: Any, base_url: str, language: str, username: Any) -> Any:
    context = chromium.new_context(locale="en-GB" if language == "en" else "ja-JP", timezone_id="Asia/Tokyo",
                                   viewport=PHONE, extra_http_headers={"Accept-Language": language})
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    cookies = [{"name": "django_language", "value": language, "url": base_url}]
    if isinstance(username, LearnerLogin):
        from django.contrib.sessions.backends.db import SessionStore

        from learners.session import SESSION_KEY

        session = SessionStore()
        session[SESSION_KEY] = str(username.account.public_id)
        session.create()
        cookies.append({"name": "sessionid", "value": session.session_key, "url": base_url})
    elif username:
        client = Client()
        assert client.login(request=login_request(), username=username, password=_password(username))
        cookies.append({"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base_url})
    context.add_cookies(cookies)
    context.add_init_script(path=str(AXE))
    return context


def _password(username: str) -> str:
    from endorsement.management.demo_data import DEMO_PASSWORD
    from tests.factories import PASSWORD

    return DEMO_PASSWORD if username in {"owner", "manager", "reviewer"} else PASSWORD


WIDER_THAN_THE_PAGE = """() => {
  const width = window.innerWidth;
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    const own = getComputedStyle(el).overflowX;
    if ((box.right > width + 1 && box.width > 0) ||
        (el.scrollWidth > el.clientWidth + 1 && !['auto', 'scroll', 'hidden', 'clip'].includes(own))) {
      let parent = el.parentElement, inside = false;
      while (parent) {
        const style = getComputedStyle(parent);
        if (['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX)) { inside = true; break; }
        parent = parent.parentElement;
      }
      if (!inside) wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
        ' (' + Math.round(box.right) + 'px)');
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width, wide: wide.slice(-5)};
}"""

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, help: v.help,
    targets: v.nodes.slice(0, 3).map(n =>
      n.target.join(' ') + ' — ' + (n.failureSummary || '').split('\\n').slice(1, 2).join(''))}));
}"""


def visit_every_page(chromium: Any, base_url: str, site: Site, pages: list[Page],
                     language: str) -> dict[str, list[str]]:
    """Open each page in `language` as its person: measured at 390 px, then axe-core at 1280 px."""
    shots = SCREENSHOTS / f"every-page-{language}"
    shots.mkdir(parents=True, exist_ok=True)
    found: dict[str, list[str]] = {"broken": [], "too_wide": [], "axe": []}
    every_shot = bool(os.environ.get("EVERY_PAGE_SHOTS"))  # a screenshot of every page at 390 px, to look at
    contexts: dict[str, Any] = {}
    try:
        for number, spec in enumerate(pages, 1):
            if spec.person not in contexts:
                login = LearnerLogin(site.learner) if spec.person == "learner" else site.logins.get(spec.person)
                contexts[spec.person] = context_for(chromium, base_url, language, login)
                contexts[spec.person].new_page()
            page = contexts[spec.person].pages[0]
            where = f"[{language}] {spec.path} ({spec.name}, as {spec.person})"
            page.set_viewport_size(PHONE)
            response = page.goto(base_url + spec.path)
            if response is None or response.status != 200 or page.url != base_url + spec.path:
                found["broken"].append(f"{where}: HTTP {response and response.status} at {page.url}")
                continue
            assert page.locator("html").get_attribute("lang") == language, where
            measured = page.evaluate(WIDER_THAN_THE_PAGE)
            if every_shot:
                page.screenshot(path=str(shots / f"{number:02d}-{spec.name.replace(':', '-')}-390.png"), full_page=True)
            if measured["scrollWidth"] > measured["innerWidth"]:
                page.screenshot(path=str(shots / f"{number:02d}-390.png"), full_page=True)
                found["too_wide"].append(f"{where}: {measured['scrollWidth']} px > {measured['innerWidth']} px; "
                                         f"widest: {', '.join(measured['wide'])}")
            page.set_viewport_size(DESKTOP)
            for violation in page.evaluate(AXE_RUN):
                found["axe"].append(f"{where}: {violation['id']} ({violation['help']}) at "
                                    + "; ".join(violation["targets"]))
    finally:
        for context in contexts.values():
            context.close()
    (shots / "report.json").write_text(json.dumps(found, indent=2, ensure_ascii=False))
    return found


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_every_page_in_both_languages_fits_a_phone_and_has_no_axe_violation(chromium, live_server,
                                                                             eager_tasks) -> None:
    """One test for both languages and both checks: the demo is built once (CI time)."""
    site = build_site()
    pages = page_list(site)
    assert len(pages) > 50, len(pages)
    found = {"broken": [], "too_wide": [], "axe": []}
    for language in LANGUAGES:
        for kind, problems in visit_every_page(chromium, live_server.url, site, pages, language).items():
            found[kind] += problems
    report = [*(f"not a page: {b}" for b in found["broken"]),
              *(f"wider than 390 px: {w}" for w in found["too_wide"]),
              *(f"axe: {v}" for v in found["axe"])]
    heading = f"{len(report)} problems in {len(pages)} pages × {len(LANGUAGES)} languages:"
    assert report == [], heading + "\n" + "\n".join(report)
