"""`manage.py seed_demo`: a realistic demo, built through the same services the pages and the API use.

Creates a superuser `admin`, the body's staff (one manager, two reviewers), four member organisations
(three approved, one still applied), their staff, a declared conflict of interest and ten programmes
whose applications stand in every state of the workflow. Every login's password is DEMO_PASSWORD.

Each service call commits on its own, as it would from a page, so its after-commit tasks run in
between (the EndorsementCredential must be signed before a programme is published).

Safe to repeat: whatever already exists (looked up by username, organisation slug, programme slug)
is left alone and each application is taken from wherever it stands to its demo state, so a second
run writes nothing and prints the same logins, and a run stopped half-way is finished by the next.
Refuses to run with DEBUG off unless --force: a superuser with a published password has no place
in production.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test.utils import override_settings

from badges.models import Programme
from badges.services import programme_create
from endorsement import services
from endorsement.management.demo_data import (
    ADMIN,
    BODY_STAFF,
    CONFLICTS,
    DEMO_PASSWORD,
    ORGANISATIONS,
    PROGRAMMES,
)
from endorsement.models import Application, ApplicationState, Endorsement
from endorsement.registry import registry_refresh
from institutions.models import ConflictOfInterest, MembershipState, Organisation, StaffMember
from institutions.services import organisation_apply, organisation_approve, staff_add

S = ApplicationState
COMMENTS = {
    "met": "Clearly addressed in the submission.",
    "partially_met": "Partly addressed; see the review summary.",
    "not_met": "Not addressed.",
    "not_applicable": "Not applicable to this programme.",
}
SIGNING_WAIT_SECONDS = 60
URLS = [("Site", "/"), ("Admin (body staff)", "/admin/"), ("Portal (members)", "/portal/"),
        ("Public registry", "/registry/"), ("API docs", "/api/docs/")]


class Seeder:
    """Creates what is missing, in order; each step looks its object up first."""

    def __init__(self) -> None:
        self.users = get_user_model().objects
        self.logins: list[tuple[str, str, str, str]] = []
        self.created = Counter()

    def user(self, username: str) -> Any:
        return self.users.get(username=username)

    def run(self) -> None:
        admin = self.admin()
        body = Organisation.objects.get(is_certification_body=True)
        for spec in BODY_STAFF:
            self.staff(actor=admin, organisation=body, spec=spec)
        for spec in ORGANISATIONS:
            self.organisation(spec)
        for spec in CONFLICTS:
            organisation = Organisation.objects.get(slug=spec["organisation"])
            reviewer = self.user(spec["reviewer"])
            if not ConflictOfInterest.objects.filter(reviewer=reviewer, organisation=organisation).exists():
                services.conflict_declare(actor=reviewer, organisation=organisation, reason=spec["reason"])
                self.created["conflict of interest"] += 1
        for spec in PROGRAMMES:
            self.programme(spec)
        from pathways.demo import seed_pathway_demo  # a pathway and a learner who completed it

        self.completion = seed_pathway_demo(self)

    def admin(self) -> Any:
        user = self.users.filter(username=ADMIN["username"]).first()
        if user is None:
            user = self.users.create_superuser(ADMIN["username"], ADMIN["email"], DEMO_PASSWORD)
            self.created["superuser"] += 1
        elif not user.is_superuser:
            raise CommandError(f"A user {user.username!r} exists and is not a superuser; not touching it.")
        self.logins.append((user.username, "superuser", "-", DEMO_PASSWORD))
        return user

    def staff(self, *, actor: Any, organisation: Organisation, spec: dict[str, str]) -> None:
        existing = StaffMember.objects.filter(user__username=spec["username"]).select_related("organisation").first()
        if existing is None:
            if self.users.filter(username=spec["username"]).exists():
                raise CommandError(f"A user {spec['username']!r} exists outside the demo; not touching it.")
            staff_add(actor=actor, organisation=organisation, username=spec["username"], email=spec["email"],
                      password=DEMO_PASSWORD, role=spec["role"])
            self.created["login"] += 1
        elif existing.organisation_id != organisation.pk or existing.role != spec["role"]:
            raise CommandError(f"{spec['username']!r} exists with another role or organisation; not touching it.")
        self.logins.append((spec["username"], spec["role"], organisation.name, DEMO_PASSWORD))

    def organisation(self, spec: dict[str, Any]) -> None:
        data, owner = spec["data"], spec["owner"]
        organisation = Organisation.objects.filter(slug=data["slug"]).first()
        if organisation is None:
            if self.users.filter(username=owner["username"]).exists():
                raise CommandError(f"A user {owner['username']!r} exists outside the demo; not touching it.")
            organisation = organisation_apply(data=data, owner={**owner, "password": DEMO_PASSWORD})
            self.created["organisation"] += 1
            self.created["login"] += 1
        if spec["approve"] and organisation.membership == MembershipState.APPLIED:
            organisation = organisation_approve(actor=self.user("manager"), organisation=organisation,
                                                comment="Membership approved by the board.")
        note = "" if organisation.is_active_member else f" ({organisation.membership}: login inactive)"
        self.logins.append((owner["username"], "owner", organisation.name + note, DEMO_PASSWORD))
        for member in spec["staff"]:
            self.staff(actor=self.user(owner["username"]), organisation=organisation, spec=member)

    def programme(self, spec: dict[str, Any]) -> None:
        organisation = Organisation.objects.get(slug=spec["organisation"])
        editor = self.user(spec["editor"])
        programme = Programme.objects.filter(organisation=organisation, slug=spec["data"]["slug"]).first()
        if programme is None:
            programme = programme_create(actor=editor, organisation=organisation, data=spec["data"])
            self.created["programme"] += 1
        app = programme.applications.order_by("-created_at", "-pk").first()
        if app is None:
            app = services.application_create(actor=editor, programme=programme)
        self.walk(app, editor, spec["walk"])

    def walk(self, app: Application, editor: Any, walk: dict[str, Any]) -> None:
        """Take the application from wherever it stands to walk["to"], one service call (one commit,
        as from a page) at a time. Resumable: a run stopped half-way is finished by the next."""
        target, manager = walk["to"], self.user("manager")
        reviewers = [self.user(name) for name in walk["reviewers"]]
        for _step in range(8):
            app.refresh_from_db()
            if app.state == S.SUBMITTED or (app.state == target == S.IN_REVIEW):
                assigned = set(app.reviews.values_list("reviewer_id", flat=True))
                for reviewer in reviewers:
                    if reviewer.pk not in assigned:
                        services.application_assign_reviewer(actor=manager, application=app, reviewer=reviewer)
            if app.state == target:
                if target == S.IN_REVIEW:
                    self.judge_partially(app, walk.get("partial", {}))
                return
            if app.state == S.DRAFT and target == S.WITHDRAWN:
                services.application_withdraw(actor=editor, application=app, comment=walk.get("comment", ""))
            elif app.state == S.DRAFT:
                services.application_submit(actor=editor, application=app)
            elif app.state == S.SUBMITTED:
                services.application_start_review(actor=manager, application=app)
            elif app.state == S.IN_REVIEW:
                self.review_and_decide(app, manager, reviewers, walk)
            elif app.state == S.ENDORSED:
                self.publish(app, manager)
            else:
                break
        raise CommandError(f"Could not take {app} from {app.state} to {target}.")

    def judge_partially(self, app: Application, partial: dict[str, dict[str, str]]) -> None:
        criteria = list(app.criteria_table.criteria.all())
        for name, verdicts in partial.items():
            review = app.reviews.get(reviewer__username=name)
            if not review.judgements.exists():
                self.judge(app, review.reviewer, [(c, verdicts[c.code]) for c in criteria if c.code in verdicts])

    def review_and_decide(self, app: Application, manager: Any, reviewers: list[Any], walk: dict[str, Any]) -> None:
        criteria, overrides = list(app.criteria_table.criteria.all()), walk.get("verdicts", {})
        for reviewer in reviewers:
            review = app.reviews.get(reviewer=reviewer)
            if not review.is_complete:
                self.judge(app, reviewer, [(c, overrides.get(c.code, "met")) for c in criteria])
                services.review_complete(actor=reviewer, review=review, summary=walk.get("summary", ""))
        if walk["to"] == S.CHANGES_REQUESTED:
            services.application_request_changes(actor=manager, application=app, message=walk["message"])
        elif walk["to"] == S.REJECTED:
            services.application_reject(actor=manager, application=app, comment=walk["decision"])
        else:
            services.application_endorse(actor=manager, application=app, comment=walk["decision"])

    @staticmethod
    def publish(app: Application, manager: Any) -> None:
        """Publish once the EndorsementCredential is signed: at once when tasks run eagerly (no
        broker); with a broker, a worker signs it, so wait a little for it."""
        deadline = time.monotonic() + SIGNING_WAIT_SECONDS
        while not Endorsement.objects.filter(application=app, credential__isnull=False).exists():
            if time.monotonic() > deadline:
                raise CommandError(f"{app} is endorsed but its EndorsementCredential is not signed yet. Is a "
                                   "Celery worker running? Run seed_demo again once it is.")
            time.sleep(0.5)
        services.application_publish(actor=manager, application=app)

    @staticmethod
    def judge(app: Application, reviewer: Any, verdicts: list[tuple[Any, str]]) -> None:
        services.review_record_judgements(
            actor=reviewer, review=app.reviews.get(reviewer=reviewer),
            judgements=[{"criterion": c.code, "verdict": v, "comment": COMMENTS[v]} for c, v in verdicts],
        )


class Command(BaseCommand):
    help = "Fill the database with demo organisations, people and programmes in every state (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true",
                            help="Seed even with DEBUG off (never on a production database).")

    def handle(self, *args: Any, force: bool = False, **options: Any) -> None:
        if not settings.DEBUG and not force:
            raise CommandError("DEBUG is off: this looks like production. The demo creates a superuser with a "
                               "published password; pass --force if you really mean it.")
        seeder = Seeder()
        # Notifications are real (Notification rows, one per event), but the demo's addresses are
        # invented: keep the mails in memory instead of handing them to the configured backend.
        # Each service call commits on its own, as from a page, so its tasks run after it (signing
        # must be done before publishing).
        trace_log = logging.getLogger("celery.app.trace")  # one "Task … succeeded" line per eager task
        level = trace_log.level
        trace_log.setLevel(logging.WARNING)
        try:
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
                sent_before = len(getattr(mail, "outbox", []))
                seeder.run()
                mails = len(getattr(mail, "outbox", [])) - sent_before
        finally:
            trace_log.setLevel(level)
        # The refresh also ran after commit (eagerly, or on a worker when a broker is set); running
        # it here as well costs nothing (same digest, no new row) and guarantees the demo registry.
        snapshot = registry_refresh()
        published = {str(p) for p in Application.objects.filter(state=S.PUBLISHED, programme__isnull=False)
                     .values_list("programme__public_id", flat=True)}
        missing = published - {entry.get("id") for entry in snapshot.entries}
        if missing:
            raise CommandError(f"The registry snapshot lacks {len(missing)} published programmes: {sorted(missing)}.")
        self.report(seeder, mails, len(snapshot.entries))

    def report(self, seeder: Seeder, mails: int, registry_size: int) -> None:
        out = self.stdout
        if seeder.created:
            made = ", ".join(f"{n} {what}{'s' if n > 1 else ''}" for what, n in sorted(seeder.created.items()))
            out.write(self.style.SUCCESS(f"Demo data created: {made}."))
            out.write(f"{mails} notification e-mails to demo addresses were kept in memory, not sent.")
        else:
            out.write(self.style.SUCCESS("Demo data already present: nothing to do."))
        states = Counter(Application.objects.values_list("state", flat=True))
        out.write("Applications: " + ", ".join(f"{s} {states[s]}" for s in S.values if states[s]) + ".")
        out.write(f"Public registry: {registry_size} published programmes.")
        completion = getattr(seeder, "completion", None)
        if completion is not None and completion.badge:
            out.write(f"Demo learner's pathway credential: {completion.badge['id']} (CLR: {completion.clr['id']})")
        out.write("")
        widths = [max(len(row[i]) for row in [*seeder.logins, ("username", "role", "organisation", "password")])
                  for i in range(4)]
        line = "  ".join("{:<" + str(w) + "}" for w in widths)
        out.write(self.style.MIGRATE_HEADING(line.format("username", "role", "organisation", "password")))
        for row in seeder.logins:
            out.write(line.format(*row))
        out.write("")
        for label, path in URLS:
            out.write(f"{label + ':':<21}{settings.SITE_URL}{path}")
