"""The demo's own webhook receiver (`make run`, DEBUG only; never routed in production).

`seed_demo` registers an endpoint for a member and one for the body at
`<SITE_URL>/demo/webhook-receiver/<organisation slug>/` (`demo_endpoint_url`), so a newcomer sees
real deliveries in the portal.
The receiver does what a member's system should: it checks each delivery's signature with the
standardwebhooks library and the endpoint's secret, refuses a bad one (400), and records what it
got, one JSON line each, in WEBHOOK_DEMO_LOG; GET shows the last ones received for that endpoint.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from webhooks.models import WebhookEndpoint
from webhooks.secrets import endpoint_secret_text

log = logging.getLogger(__name__)
SHOWN = 50


def demo_endpoint_url(slug: str) -> str:
    return f"{settings.SITE_URL}/demo/webhook-receiver/{slug}/"


def _record(entry: dict[str, Any]) -> None:
    with open(settings.WEBHOOK_DEMO_LOG, "a", encoding="utf-8") as out:
        out.write(json.dumps(entry, ensure_ascii=False) + "\n")


def _received(endpoint_id: str) -> list[dict[str, Any]]:
    try:
        with open(settings.WEBHOOK_DEMO_LOG, encoding="utf-8") as lines:
            entries = [json.loads(line) for line in lines if line.strip()]
    except FileNotFoundError:
        return []
    return [e for e in entries if e.get("endpoint") == endpoint_id][-SHOWN:][::-1]


@csrf_exempt
@require_http_methods(["GET", "POST"])
def demo_receiver(request: HttpRequest, slug: str) -> HttpResponse:
    if not settings.WEBHOOK_DEMO_RECEIVER:
        raise Http404
    endpoint = WebhookEndpoint.objects.filter(organisation__slug=slug, url=demo_endpoint_url(slug)).first()
    if endpoint is None:
        raise Http404
    if request.method == "GET":
        return JsonResponse({"received": _received(str(endpoint.public_id))})
    entry: dict[str, Any] = {"endpoint": str(endpoint.public_id), "received_at": timezone.now().isoformat(),
                             "webhook_id": request.headers.get("webhook-id", "")}
    try:
        payload = Webhook(endpoint_secret_text(endpoint)).verify(request.body, dict(request.headers))
    except (WebhookVerificationError, ValueError) as error:
        entry.update(verified=False, error=str(error))
        _record(entry)
        log.warning("demo receiver: refused webhook %s: %s", entry["webhook_id"], error)
        return JsonResponse({"detail": f"signature not valid: {error}"}, status=400)
    entry.update(verified=True, type=payload.get("type"), payload=payload)
    _record(entry)
    log.info("demo receiver: webhook %s (%s) verified and recorded", entry["webhook_id"], entry["type"])
    return HttpResponse(status=204)
