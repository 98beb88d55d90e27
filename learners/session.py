"""Who the learner is in this browser: the account's public id under a session key of its own,
never Django's auth user, so that a learner is never signed in to the portal or the admin."""

from __future__ import annotations

from django.http import HttpRequest

from learners.models import LearnerAccount

SESSION_KEY = "learner_account"


def learner_sign_in(request: HttpRequest, account: LearnerAccount) -> None:
    request.session.cycle_key()  # a new session id on signing in (no fixation)
    request.session[SESSION_KEY] = str(account.public_id)


def learner_sign_out(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()


def current_learner(request: HttpRequest) -> LearnerAccount | None:
    public_id = request.session.get(SESSION_KEY)
    if not public_id:
        return None
    account = LearnerAccount.objects.filter(public_id=public_id).first()
    if account is None:  # deleted meanwhile
        request.session.pop(SESSION_KEY, None)
    return account
