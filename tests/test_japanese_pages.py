"""The main pages rendered in Japanese read as Japanese: no ASCII space beside Japanese text, and no
half-width ( ) : , . beside kana or kanji, in what the reader sees (docs/i18n.md, "Japanese
typography"). The catalogue's own check (tests/test_japanese_typography.py) cannot see what the
templates put around a translated word: 「3件のプログラム。 更新：」, a space before a link, ASCII
parentheses around `{% trans %}`. This renders the pages with the test client and reads their text
as a browser lays it out: inline elements joined, block elements on lines of their own."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from badges.awards import award_issue
from endorsement.registry import registry_refresh
from institutions.models import Role
from tests.factories import PASSWORD, awarding_setup, login_request, staff, stored_batch
from tests.test_japanese_typography import HALF_WIDTH_PUNCTUATION, SPACE_BY_JAPANESE

pytestmark = pytest.mark.django_db

# Elements that begin a line of their own (or replace text with a control): text either side of
# them is not one run. Anything else (a, span, strong, code, abbr, label…) is inline, but for the
# boxes drawn apart: a link styled as a button, a state shown as a pill, a chart's legend entry (its
# swatch and words, set 1em apart from the next).
BLOCKS = {
    "address", "article", "aside", "blockquote", "body", "br", "button", "caption", "dd", "details", "div",
    "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "img", "input", "legend", "li", "main", "nav", "ol", "option", "p", "section",
    "select", "summary", "table", "tbody", "td", "textarea", "tfoot", "th", "thead", "tr", "ul",
}
BOXES = {"button", "badge-state", "legend"}
# Not read: what is not text (scripts, styles, icons hidden from assistive technology) and literal
# samples of what a user types or a machine reads (a CSV example, a DID), shown as they are.
ICON = "\x00"
VOID = {"br", "hr", "img", "input", "meta", "link", "wbr", "source"}
UNSEEN = {"script", "style", "template", "head", "svg", "noscript", "pre", "code", "kbd", "samp"}
# Separators set with spaces on purpose in both languages: " · " between the links of a line,
# " → " between two states, the space between a date and its time (「2026年12月1日 5:52」, Django's
# Japanese DATETIME_FORMAT), and " | " as tests/test_japanese_typography.py allows it. A " · " before
# a state pill (a box, so read as a line of its own) ends its line as " ·": the same separator, its
# space after it before the pill, in both languages (「版1 · 有効」).
SEPARATORS = re.compile(r" [·→|](?: |$)|(?<=日) (?=\d{1,2}:\d{2})")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.runs: list[str] = [""]
        self.open: list[tuple[str, bool, bool]] = []  # (tag, hidden, a box)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        hidden = tag in UNSEEN or named.get("aria-hidden") == "true" or "hidden" in named
        box = bool(BOXES & set((named.get("class") or "").split()))
        if tag in VOID:
            if tag in BLOCKS:
                self.runs.append("")
            return
        if hidden and not any(h for _tag, h, _box in self.open):
            self.runs[-1] += ICON  # an icon takes its place, with the space after it
        self.open.append((tag, hidden, box))
        if tag in BLOCKS or box:
            self.runs.append("")

    def handle_endtag(self, tag: str) -> None:
        while self.open:
            name, _hidden, box = self.open.pop()
            if name == tag:
                if tag in BLOCKS or box:
                    self.runs.append("")
                return

    def handle_data(self, data: str) -> None:
        if not any(hidden for _tag, hidden, _box in self.open):
            self.runs[-1] += data


def seen_lines(html: str) -> list[str]:
    """The page's text as lines a reader sees: each block's runs, white space collapsed and trimmed."""
    parser = _Text()
    parser.feed(html)
    lines = (re.sub(f"{ICON}\\s*", "", " ".join(run.split())).strip() for run in parser.runs)
    return [line for line in lines if line]


def offending_lines(html: str) -> list[str]:
    return [line for line in seen_lines(html)
            if SPACE_BY_JAPANESE.search(SEPARATORS.sub("|", line)) or HALF_WIDTH_PUNCTUATION.search(line)]


def test_the_reading_finds_what_it_is_written_for():
    assert offending_lines("<p>3件のプログラム。 <a>更新</a>：</p>") == ["3件のプログラム。 更新："]
    assert offending_lines("<p>会員資格は <a href='/apply/'>こちら</a></p>") == ["会員資格は こちら"]
    assert offending_lines("<th>名前 <span>(必須)</span></th>") == ["名前 (必須)"]
    assert offending_lines("<ul>\n  <li>申請</li>\n  <li>審査</li>\n</ul><p>名前（必須）</p>") == []
    assert offending_lines("<p>名前</p> <script>if (a) { x = '日本 (語)' }</script>") == []
    assert offending_lines("<p>状態：<span><span aria-hidden='true'>✓</span> 有効</span></p>") == []
    assert offending_lines("<p><a class='button'>発行</a> <a>一括発行</a></p><pre>山田 花子</pre>") == []
    assert offending_lines("<p>提出済み → 審査中 · 2026年12月1日 5:52</p>") == []
    assert offending_lines("<li>2026年12月1日 · 版1 · <span class='badge-state'>有効</span></li>") == []
    assert offending_lines("<p>提出済み: 審査中</p>") == ["提出済み: 審査中"]


def _read(client, pages: dict[str, str]) -> dict[str, list[str]]:
    """The offending lines of each page, read in Japanese (pages with none left out)."""
    found = {}
    for name, url in pages.items():
        answer = client.get(url, HTTP_ACCEPT_LANGUAGE="ja", HTTP_ACCEPT="text/html")
        assert answer.status_code == 200, (name, url, answer.status_code)
        html = answer.content.decode()
        assert '<html lang="ja"' in html, name
        if bad := offending_lines(html):
            found[name] = bad
    return found


def _print(found: dict[str, list[str]]) -> None:
    for name, lines in found.items():
        print(name, *lines, sep='\n  ')


def _sign_in(client, user) -> None:
    assert client.login(request=login_request(), username=user.username, password=PASSWORD)


def test_the_main_pages_in_japanese_have_no_ascii_punctuation_or_spaces_beside_japanese(client):
    programme, application, cast, _issuer = awarding_setup()
    registry_refresh()
    found = _read(client, {
        "home": reverse("home"), "login": reverse("login"), "apply": reverse("apply"), "verify": reverse("verify"),
        "registry": reverse("registry:index"),
        "registry programme": reverse("registry:programme", args=[programme.public_id]),
        "registry organisation": reverse("registry:organisation", args=[cast.organisation.slug]),
        "learner sign-in": reverse("learners:sign_in"),
    })
    owner = staff(cast.organisation, Role.OWNER)
    _sign_in(client, owner)
    found |= _read(client, {
        "dashboard": reverse("portal:dashboard"),
        "portal programme": reverse("portal:programme", args=[programme.public_id]),
        "programme new": reverse("portal:programme_new"),
        "application": reverse("portal:application", args=[application.pk]),
        "account": reverse("portal:account"), "organisation": reverse("portal:organisation"),
        "staff": reverse("portal:staff"), "reports": reverse("portal:reports"),
        "webhooks": reverse("portal:webhooks"), "pathways": reverse("portal:pathways"),
        "awards": reverse("awards:programme", args=[programme.public_id]),
        "award new": reverse("awards:new", args=[programme.public_id]),
        "batch new": reverse("awards:batch_new", args=[programme.public_id]),
    })
    _print(found)
    assert found == {}


def test_a_badge_its_batch_and_its_verification_read_as_japanese(client):
    """The pages of one issued badge: the learner's public page, the issuer's view of it and of its
    batch, the evidence files page, and the verification result an employer reads."""
    # The data is written as a Japanese user types it (a name without a space, the criteria in
    # Japanese): what the page sets around the data is read, not the data.
    programme, _application, cast, issuer = awarding_setup(criteria_narrative="3つの課題でそれぞれ60%以上を得ること。")
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org",
                        recipient_name="山田花子", recipient_language="ja")
    batch = stored_batch([{"recipient_email": "taro@example.org", "recipient_name": "佐藤太郎"}],
                         programme=programme, created_by=issuer, total=1)
    registry_refresh()
    found = _read(client, {"badge": reverse("awards:badge", args=[award.public_id])})
    answer = client.post(reverse("verify"), {"credential": json.dumps(award.credential)}, HTTP_ACCEPT_LANGUAGE="ja")
    assert answer.status_code == 200 and "検証" in answer.content.decode()
    if bad := offending_lines(answer.content.decode()):
        found["verification result"] = bad
    owner = staff(cast.organisation, Role.OWNER)
    _sign_in(client, owner)
    found |= _read(client, {
        "award": reverse("awards:detail", args=[award.public_id]),
        "batch": reverse("awards:batch", args=[batch.public_id]),
        "evidence files": reverse("awards:evidence_files", args=[programme.public_id]),
    })
    _print(found)
    assert found == {}


# A programme as a Japanese organisation writes it: the criteria and the other single-language
# fields in Japanese, names of people without a space.
JAPANESE_PROGRAMME = {
    "criteria_narrative": "3つの課題でそれぞれ60%以上を得ること。",
    "learning_outcomes": ["表形式のデータを整える", "適切なグラフを選ぶ", "傾向を説明する"],
    "level": "レベル5", "level_framework": "欧州資格枠組み",
    "assessment_method": "採点付きの課題3件と監督付きのオンライン試験。",
    "evidence_policy": "採点済みの課題は5年間保管し、各バッジからリンクする。",
    "quality_assurance": "カリキュラム委員会が毎年度内部審査を行う。",
    "responsible_person": "鈴木太郎教授", "tags": ["データ", "ビジネス"],
    "alignments": [{"name": "データリテラシー", "url": "https://example.org/frameworks/dl", "framework": "DigComp"}],
}


def _japanese_pathway(**changes):
    """A pathway published through the real review services, written in Japanese, of two endorsed
    programmes written in Japanese; returns (application, cast, pathway)."""
    from endorsement.models import ApplicationState
    from tests.factories import Cast, ProgrammeFactory, application_in
    from tests.pathways.helpers import EXTERNAL, EXTERNAL_ISSUER, pathway_in

    programmes = []
    for name in ("データリテラシー入門", "データ分析演習"):
        cast = Cast()
        programme = ProgrammeFactory(organisation=cast.organisation, name_ja=name, **JAPANESE_PROGRAMME)
        programmes.append(application_in(ApplicationState.PUBLISHED, cast=cast, programme=programme)[0].programme)
    first, second = programmes
    return pathway_in("published", programmes=(first, second), **{
        "learning_outcomes": ["業務データを最初から最後まで分析できる"],
        "assessment_of_whole": "2名の審査員が修了プロジェクトを評価する。",
        "quality_assurance": "MOOCのバッジは大学が認定している。",
        "responsible_person": "佐藤花子教授", "language": "ja",
        "components": [
            {"code": "literacy", "programme": str(first.public_id)},
            {"code": "stats", "achievement_url": EXTERNAL, "issuer_id": EXTERNAL_ISSUER,
             "issuer_name": "サンプル公開講座", "name_en": "Statistics 101", "name_ja": "統計学入門",
             "description_en": "Descriptive statistics and inference.", "description_ja": "記述統計と推測統計。",
             "hours": "10"},
            {"code": "project", "programme": str(second.public_id), "is_capstone": True},
        ],
        **changes,
    })


def test_the_registry_and_portal_pathway_pages_read_as_japanese(client):
    _application, cast, pathway = _japanese_pathway()
    registry_refresh()
    found = _read(client, {
        "registry pathway": reverse("registry:pathway", args=[pathway.public_id]),
        "registry organisation with a pathway": reverse("registry:organisation", args=[cast.organisation.slug]),
    })
    owner = staff(cast.organisation, Role.OWNER)
    _sign_in(client, owner)
    found |= _read(client, {
        "portal pathways": reverse("portal:pathways"),
        "portal pathway": reverse("portal:pathway", args=[pathway.public_id]),
        "portal pathway edit": reverse("portal:pathway_edit", args=[pathway.public_id]),
    })
    _print(found)
    assert found == {}


def test_the_endorsement_its_renewal_and_the_reports_pages_read_as_japanese(client, settings):
    from datetime import date, timedelta

    from django.utils import timezone

    from endorsement.models import Application, Endorsement
    from endorsement.reports import issuance_report_file

    programme, application, cast, issuer = awarding_setup(**JAPANESE_PROGRAMME)
    endorsement = application.endorsement
    # Begun a year ago and ending within the renewal window: a report's period has ended, a renewal opens.
    Endorsement.objects.filter(pk=endorsement.pk).update(valid_from=timezone.now() - timedelta(days=400),
                                                         valid_until=timezone.now() + timedelta(days=20))
    today = date.today()
    issuance_report_file(actor=issuer, programme=programme, period_start=(today - timedelta(days=31)).isoformat(),
                         period_end=(today - timedelta(days=1)).isoformat(), count=12,
                         platform="学内の学習管理システム", note="2026年度前期の受講者")
    owner = staff(cast.organisation, Role.OWNER)
    _sign_in(client, owner)
    found = _read(client, {
        "endorsement": reverse("portal:endorsement", args=[endorsement.public_id]),
        "programme reports": reverse("portal:programme_reports", args=[programme.public_id]),
    })
    answer = client.post(reverse("portal:endorsement_renew", args=[endorsement.public_id]))
    renewal = Application.objects.get(renews=endorsement)
    assert answer.status_code == 302, answer
    found |= _read(client, {
        "renewal application": reverse("portal:application", args=[renewal.pk]),
        "endorsement with its renewal open": reverse("portal:endorsement", args=[endorsement.public_id]),
    })
    _print(found)
    assert found == {}


def test_the_webhook_and_the_invitation_pages_read_as_japanese(client):
    from institutions import staff as staff_services
    from webhooks.services import endpoint_create, endpoint_send_test

    _programme, _application, cast, _issuer = awarding_setup()
    owner = staff(cast.organisation, Role.OWNER)
    endpoint, _secret = endpoint_create(actor=owner, organisation=cast.organisation, url="http://127.0.0.1:9/badges",
                                        events=["award.issued"], description="学内システムへのバッジ発行の通知")
    endpoint_send_test(actor=owner, endpoint=endpoint)
    _invitation, token = staff_services.staff_invite(actor=owner, organisation=cast.organisation,
                                                      email="jiro@example.org", role=Role.ISSUER)
    found = _read(client, {"invitation": reverse("invitation_accept", args=[token])})
    _sign_in(client, owner)
    found |= _read(client, {"webhook": reverse("portal:webhook", args=[endpoint.public_id]),
                            "webhooks with one": reverse("portal:webhooks"),
                            "staff with an invitation": reverse("portal:staff")})
    _print(found)
    assert found == {}


def test_the_learners_account_and_wallets_pages_read_as_japanese():
    from django.core.cache import cache

    from learners.wallet_scopes import CREDENTIAL_READ, PROFILE_READ
    from tests.learners.test_wallet_audit import consent
    from tests.learners.test_wallets import browser_of, learner, registered_application

    cache.clear()
    programme, _application, _cast, issuer = awarding_setup(**JAPANESE_PROGRAMME)
    account = learner("hanako@example.org")
    award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org",
                recipient_name="山田花子", recipient_language="ja")
    browser = browser_of(account)
    before = _read(browser, {"wallets without one": reverse("learners:wallets")})
    consent(browser, registered_application(), f"{CREDENTIAL_READ} {PROFILE_READ}")
    found = before | _read(browser, {"account": reverse("learners:account"), "wallets": reverse("learners:wallets")})
    cache.clear()
    _print(found)
    assert found == {}


def test_the_pathway_completion_pages_read_as_japanese(client):
    from django.test import Client

    from pathways.completion import completion_open, credential_present
    from tests.pathways.completion_setup import LEARNER, endorse_pathway, pathway_setup

    setup = pathway_setup()
    # The components named as a Japanese organisation names them (the MOOC's own badge keeps its English name).
    for programme, name in ((setup.programme_a, "データリテラシー入門"), (setup.programme_b, "データ分析演習")):
        type(programme).objects.filter(pk=programme.pk).update(name_ja=name)
        programme.refresh_from_db()
    setup.pathway.components.filter(code="python").update(name_ja="Python入門")
    endorse_pathway(setup)
    award_a = setup.award(setup.programme_a, name="山田花子")
    completion, link = completion_open(actor=setup.issuer_a, pathway=setup.pathway, learner_email=LEARNER,
                                       learner_name="山田花子")
    credential_present(completion=completion, component_code="a", credential=award_a.credential)
    path = link.split("://", 1)[-1]
    path = path[path.index("/"):]
    found = _read(Client(), {"completion (learner)": path})
    _sign_in(client, setup.issuer_a)
    found |= _read(client, {
        "completion new": reverse("pathway-completion-new", args=[setup.pathway.public_id]),
        "completion (staff)": reverse("pathway-completion-staff", args=[completion.public_id]),
    })
    credential_present(completion=completion, component_code="python", credential=setup.external_badge())
    credential_present(completion=completion, component_code="b",
                       credential=setup.award(setup.programme_b, name="山田花子").credential)
    completion.refresh_from_db()
    found |= _read(client, {
        "completion issued (staff)": reverse("pathway-completion-staff", args=[completion.public_id]),
    })
    found |= _read(Client(), {"pathway credential": f"/pathway-credentials/{completion.public_id}",
                              "completion issued (learner)": path})
    _print(found)
    assert found == {}


def test_a_programme_written_in_japanese_reads_as_japanese(client):
    """The programme's pages when the organisation wrote its single-language fields in Japanese (the
    level's framework, the alignments' frameworks beside Japanese text), with an issuance report."""
    from datetime import date, timedelta

    from django.utils import timezone

    from endorsement.models import Endorsement
    from endorsement.reports import issuance_report_file

    programme, application, cast, issuer = awarding_setup(**JAPANESE_PROGRAMME)
    Endorsement.objects.filter(pk=application.endorsement.pk).update(valid_from=timezone.now() - timedelta(days=400))
    today = date.today()
    issuance_report_file(actor=issuer, programme=programme, period_start=(today - timedelta(days=31)).isoformat(),
                         period_end=(today - timedelta(days=1)).isoformat(), count=12,
                         platform="学内の学習管理システム", note="2026年度前期の受講者")
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org",
                        recipient_name="山田花子", recipient_language="ja")
    registry_refresh()
    found = _read(client, {
        "registry programme": reverse("registry:programme", args=[programme.public_id]),
        "badge": reverse("awards:badge", args=[award.public_id]),
    })
    owner = staff(cast.organisation, Role.OWNER)
    _sign_in(client, owner)
    found |= _read(client, {
        "portal programme": reverse("portal:programme", args=[programme.public_id]),
        "application": reverse("portal:application", args=[application.pk]),
        "award": reverse("awards:detail", args=[award.public_id]),
    })
    _print(found)
    assert found == {}
