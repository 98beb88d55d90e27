"""Pages for awards. Portal (staff of the programme's organisation; issuing and revoking for its
owners and issuers): a programme's awards, award one, upload a batch, follow a batch, one award
with its revoke form. Public: the learner's badge page, its JSON and the baked images.

Thin: each view checks who is asking, calls a service in badges.awards / badges.batches, renders.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from badges.archive import Reason, copy_for_token, copy_withdraw, evidence_items
from badges.award_images import award_png, award_svg, image_mark
from badges.awards import (
    award_issue,
    award_of_staff,
    award_public,
    award_revoke,
    award_standing,
    award_url,
    awards_of_programme,
)
from badges.batch_files import UploadedFile, evidence_upload_store
from badges.batches import (
    BATCH_PAGE_ROWS,
    ParsedUpload,
    award_batch_create,
    award_batch_of_staff,
    award_batch_restart,
    award_batch_rows,
    batch_template_csv,
    read_as_words,
    rows_from_text,
    rows_from_upload,
    sentences,
)
from badges.certificate import CERTIFICATE_LANGUAGES, CertificateUnavailable, certificate_pdf
from badges.evidence import evidence_standing_for
from badges.models import Award, AwardBatch, EvidenceUpload, Programme
from badges.sharing import award_share
from badges.verification import credential_verify
from badges.verify_views import plain_words
from config.errors import DomainError, InvalidInput, NotFound
from config.i18n import in_language
from config.pages import raise_as_http
from endorsement.credentials import endorsement_in_force
from institutions.forms import add_service_errors
from institutions.permissions import can_issue_for, is_member_of

LD_JSON = "application/ld+json"


# --- forms (collect strings; the services check them) ---------------------------------------------
class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class EvidenceFilesField(forms.FileField):
    """Any number of files (the archive service checks their number, sizes and types)."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else [data]
        return [super(EvidenceFilesField, self).clean(f, initial) for f in files if f]


class AwardForm(forms.Form):
    recipient_email = forms.CharField(label=gettext_lazy("Learner's e-mail"), required=False, max_length=1000,
                                      help_text=gettext_lazy("Stored hashed in the badge; the learner is mailed "
                                                             "the link to it."))
    recipient_did = forms.CharField(label=gettext_lazy("Learner's DID"), required=False, max_length=1000,
                                    help_text=gettext_lazy("Instead of, or as well as, the e-mail: did:…"))
    recipient_name = forms.CharField(label=gettext_lazy("Learner's name"), required=False, max_length=1000,
                                     help_text=gettext_lazy("Shown in the badge."))
    evidence_url = forms.CharField(label=gettext_lazy("Evidence URL"), required=False, max_length=2000,
                                   help_text=gettext_lazy("An http:// or https:// link to the assessed work."))
    evidence_narrative = forms.CharField(label=gettext_lazy("Evidence narrative"), required=False,
                                         widget=forms.Textarea(attrs={"rows": 4}))
    evidence_file = EvidenceFilesField(
        label=gettext_lazy("Evidence files"), required=False,
        help_text=gettext_lazy("PDF, images (PNG, JPEG, GIF, WebP), plain text or a zip of a portfolio, exported from "
                               "any system. Kept in the archive and sealed into the signed badge by their digest; "
                               "only people holding the badge can open them."))


class BatchForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV, JSON or zip file"), required=False,
                           help_text=gettext_lazy("CSV with a header row (English or Japanese column names, as "
                                                  "in the templates), saved by Excel as “CSV UTF-8” or “CSV” "
                                                  "(Shift_JIS), or a JSON list of objects with those keys. With "
                                                  "evidence files: a zip holding that CSV at its top level and "
                                                  "the files, each row naming its files' paths in the zip in "
                                                  "the evidence_files column (several separated by “|”)."))
    text = forms.CharField(label=gettext_lazy("…or paste the CSV or JSON here"), required=False,
                           widget=forms.Textarea(attrs={"rows": 8}))


class RevokeForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


# --- portal ---------------------------------------------------------------------------------------
def _programme(request: HttpRequest, public_id: Any) -> Programme:
    """The programme, for staff of its organisation; 404 for anyone else."""
    programme = Programme.objects.select_related("organisation").filter(public_id=public_id).first()
    if programme is None or not is_member_of(request.user, programme.organisation):
        raise Http404(_("No such programme."))
    return programme


def _require_issuer(request: HttpRequest, programme: Programme) -> None:
    if not can_issue_for(request.user, programme.organisation):
        raise PermissionDenied(_("Only the organisation's owners and issuers may award or revoke badges."))


@login_required
@require_GET
def programme_awards(request: HttpRequest, public_id: Any) -> HttpResponse:
    programme = _programme(request, public_id)
    search = request.GET.get("q", "").strip()[:200]
    page = Paginator(awards_of_programme(programme, search), 50).get_page(request.GET.get("page"))
    rows = [(award, award_standing(award)) for award in page]
    return render(request, "badges/awards/programme_awards.html", {
        "programme": programme, "page": page, "rows": rows, "search": search,
        "batches": AwardBatch.objects.filter(programme=programme).order_by("-created_at")[:20],
        "can_issue": can_issue_for(request.user, programme.organisation),
        "endorsement": endorsement_in_force(programme.pk),
    })


@login_required
def award_new(request: HttpRequest, public_id: Any) -> HttpResponse:
    programme = _programme(request, public_id)
    _require_issuer(request, programme)
    form = AwardForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        files = fields.pop("evidence_file") or []
        try:
            award = award_issue(actor=request.user, programme=programme, evidence_files=files, **fields)
        except DomainError as error:
            raise_as_http(error)
            add_service_errors(form, error)
            status = error.status_code
        else:
            messages.success(request, _("The badge was awarded."))
            return redirect("awards:detail", award.public_id)
    elif form.errors:
        status = 400
    return render(request, "badges/awards/award_form.html", {"programme": programme, "form": form}, status=status)


@login_required
def batch_new(request: HttpRequest, public_id: Any) -> HttpResponse:
    programme = _programme(request, public_id)
    _require_issuer(request, programme)
    form = BatchForm(request.POST or None, request.FILES or None)
    status, row_errors = 200, []
    if request.method == "POST" and form.is_valid():
        upload, text = form.cleaned_data["file"], form.cleaned_data["text"].strip()
        try:
            if bool(upload) == bool(text):
                raise InvalidInput(_("Upload a file or paste the rows, not both."),
                                   field_errors={"file": [_("Give a file or the text.")]})
            parsed = rows_from_upload(upload.read()) if upload else ParsedUpload(rows_from_text(text))
            batch = award_batch_create(actor=request.user, programme=programme, rows=parsed.rows,
                                       encoding=parsed.encoding, archive=parsed.archive)
        except DomainError as error:
            raise_as_http(error)
            status = error.status_code
            row_errors = error.details.get("row_errors", [])
            field_messages = {k: v for k, v in error.field_errors.items() if k in form.fields}
            if field_messages.get("file") != [error.message]:
                form.add_error(None, error.message)
            for field, field_errors in field_messages.items():
                form.add_error(field, field_errors)
            if not row_errors:  # a refusal without rows in words (too many rows, no rows): its messages
                for key, key_messages in error.field_errors.items():
                    if key not in form.fields:
                        form.add_error(None, key_messages)
        else:
            accepted = ngettext("The batch was accepted: %(n)d badge is being awarded.",
                                "The batch was accepted: %(n)d badges are being awarded.",
                                batch.total) % {"n": batch.total}
            messages.success(request, sentences(accepted, read_as_words(batch.source_encoding)))
            return redirect("awards:batch", batch.public_id)
    return render(request, "badges/awards/batch_form.html",
                  {"programme": programme, "form": form, "row_errors": row_errors}, status=status)


RECENT_UPLOADS = 50


@login_required
def evidence_files_page(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Evidence files uploaded ahead of a batch (owners and issuers), as `POST …/evidence-files` does
    (badges.batch_files.evidence_upload_store: checked by content and size, stored, audited): the
    answer lists each file's handle, which the batch sheet's evidence_files column names. A file in
    error refuses them all (400, the reasons listed, nothing stored)."""
    programme = _programme(request, public_id)
    _require_issuer(request, programme)
    stored: list[UploadedFile] = []
    status, errors = 200, []
    if request.method == "POST":
        try:
            stored = evidence_upload_store(actor=request.user, organisation=programme.organisation,
                                           uploads=request.FILES.getlist("evidence_file"), programme=programme)
        except DomainError as error:
            raise_as_http(error)
            status, errors = error.status_code, [error.message, *error.field_errors.get("evidence_file", [])]
        else:
            messages.success(request, ngettext("%(n)d file stored: name it in the batch by its handle.",
                                               "%(n)d files stored: name them in the batch by their handles.",
                                               len(stored)) % {"n": len(stored)})
    recent = (EvidenceUpload.objects.filter(organisation=programme.organisation).select_related("blob")
              .order_by("-created_at", "-pk")[:RECENT_UPLOADS])
    context = {"programme": programme, "stored": [f.as_json() for f in stored], "errors": errors,
               "recent": [{**UploadedFile(u).as_json(), "created_at": u.created_at} for u in recent],
               "keep_days": settings.EVIDENCE_UPLOAD_KEEP_DAYS, "recent_limit": RECENT_UPLOADS}
    return render(request, "badges/awards/evidence_files.html", context, status=status)


def _batch_for_staff(request: HttpRequest, public_id: Any) -> AwardBatch:
    try:
        return award_batch_of_staff(request.user, public_id)
    except NotFound as error:
        raise Http404(error.message) from error


def _batch_page(request: HttpRequest, batch: AwardBatch) -> Any:
    return Paginator(range(batch.total), BATCH_PAGE_ROWS).get_page(request.GET.get("page"))


def _batch_progress(batch: AwardBatch) -> dict[str, Any]:
    running = batch.state in (AwardBatch.State.PENDING, AwardBatch.State.RUNNING)
    return {
        "state": batch.state, "state_label": str(batch.get_state_display()), "running": running,
        "stalled": batch.stalled, "issued": batch.issued, "total": batch.total, "percent": int(batch.progress * 100),
        "issued_label": _("%(issued)s of %(total)s") % {"issued": batch.issued, "total": batch.total},
        "error": batch.error,
    }


@login_required
@require_GET
def batch_template(request: HttpRequest, language: str) -> HttpResponse:
    """The header row of a batch CSV, English or Japanese column names, as UTF-8 with a BOM (Excel
    opens it as Unicode; badges.batches.batch_template_csv)."""
    try:
        content = batch_template_csv(language)
    except NotFound as error:
        raise Http404(error.message) from error
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="award-batch-{language}.csv"'
    return response


@login_required
@require_GET
def batch_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The batch: its progress (kept current by static/js/batch-progress.js polling batch_progress,
    or, without JS, by a refresh every few seconds) and every row, 100 a page, with its award."""
    batch = _batch_for_staff(request, public_id)
    page = _batch_page(request, batch)
    rows = award_batch_rows(batch, page.start_index() - 1, page.end_index()) if batch.total else []
    return render(request, "badges/awards/batch_detail.html", {
        "batch": batch, "programme": batch.programme, "page": page, "rows": rows, **_batch_progress(batch),
        "rows_label": ngettext("%(n)d row", "%(n)d rows", batch.total) % {"n": batch.total},
        "can_issue": can_issue_for(request.user, batch.programme.organisation),
    })


@login_required
@require_GET
def batch_progress(request: HttpRequest, public_id: Any) -> JsonResponse:
    """The batch's progress, and the awards of the rows of one page of it (?page=), as JSON for the
    batch page's script. The organisation's staff only (404 for anyone else)."""
    batch = _batch_for_staff(request, public_id)
    page = _batch_page(request, batch)
    rows = award_batch_rows(batch, page.start_index() - 1, page.end_index()) if batch.total else []
    response = JsonResponse({
        **_batch_progress(batch), "page": page.number,
        "awarded": [{"row": r.number, "url": reverse("awards:detail", args=[r.award.public_id]),
                     "label": _("awarded")} for r in rows if r.award],
    })
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def batch_restart(request: HttpRequest, public_id: Any) -> HttpResponse:
    try:
        batch = award_batch_of_staff(request.user, public_id)
        award_batch_restart(actor=request.user, batch=batch)
    except DomainError as error:
        raise_as_http(error)
        messages.error(request, error.message)
    else:
        messages.success(request, _("The batch was started again: only rows without a badge are awarded."))
    return redirect("awards:batch", public_id)


def _award_for_staff(request: HttpRequest, public_id: Any) -> Any:
    try:
        return award_of_staff(request.user, public_id)
    except NotFound as error:
        raise Http404(error.message) from error


@login_required
@require_GET
def award_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    award = _award_for_staff(request, public_id)
    return render(request, "badges/awards/award_detail.html", {
        "award": award, "programme": award.programme, "standing": award_standing(award),
        "url": award_url(award.public_id), "form": RevokeForm(),
        "can_issue": can_issue_for(request.user, award.organisation), **_evidence_context(award),
        "withdraw_reasons": [Reason.LEARNER, Reason.ORGANISATION],
    })


@login_required
@require_POST
def evidence_withdraw_page(request: HttpRequest, token: str) -> HttpResponse:
    """Withdraw one archived copy from the award's page (owners and issuers)."""
    try:
        copy = copy_for_token(token)
    except DomainError as error:
        raise Http404(error.message) from error
    award = _award_for_staff(request, copy.award.public_id)
    try:
        copy_withdraw(actor=request.user, copy=copy, reason=request.POST.get("reason", ""))
    except DomainError as error:
        raise_as_http(error)
        messages.error(request, " ".join([error.message, *(m for ms in error.field_errors.values() for m in ms)]))
    else:
        messages.success(request, _("The archived evidence was withdrawn: its content is deleted, its digest and "
                                    "the date remain."))
    return redirect("awards:detail", award.public_id)


@login_required
@require_POST
def award_revoke_page(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Revoke after a confirmation step: the first POST (the form on the award's page) shows what
    revoking does and asks again, writing nothing; the POST with `confirm=yes` revokes. Without a
    reason there is nothing to confirm: the service's refusal is shown at once."""
    award = _award_for_staff(request, public_id)
    form = RevokeForm(request.POST)
    form.is_valid()
    if request.POST.get("confirm") != "yes" and form.cleaned_data.get("reason", "").strip():
        _require_issuer(request, award.programme)
        if award.revoked_at:
            messages.error(request, _("This badge is already revoked."))
            return redirect("awards:detail", award.public_id)
        return render(request, "badges/awards/award_revoke_confirm.html", {
            "award": award, "programme": award.programme, "reason": form.cleaned_data.get("reason", ""),
        })
    try:
        award_revoke(actor=request.user, award=award, reason=form.cleaned_data.get("reason", ""))
    except DomainError as error:
        raise_as_http(error)
        add_service_errors(form, error)
        return render(request, "badges/awards/award_detail.html", {
            "award": award, "programme": award.programme, "standing": award_standing(award),
            "url": award_url(award.public_id), "form": form, "can_issue": True,
        }, status=error.status_code)
    messages.success(request, _("The badge was revoked; its status list is being updated."))
    return redirect("awards:detail", award.public_id)


# --- public: the learner's badge -----------------------------------------------------------------
def _public(public_id: Any) -> Any:
    try:
        return award_public(public_id)
    except NotFound as error:
        raise Http404(error.message) from error


VC_MEDIA_TYPE = "application/vc"  # VC 2.0's media type; application/vc+ld+json is still served to those asking
# What /badges/<uuid> answers, by Accept: the page first (browsers, and no Accept at all), then the credential.
BADGE_MEDIA_TYPES = ["text/html", VC_MEDIA_TYPE, "application/vc+ld+json", LD_JSON, "application/json"]


def _credential_response(award: Any, media_type: str = "application/vc+ld+json") -> HttpResponse:
    body = json.dumps(award.credential, ensure_ascii=False, indent=2).encode("utf-8")
    response = HttpResponse(body, content_type=f"{media_type}; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "public, max-age=300"
    return response


def _credential_type_wanted(request: HttpRequest) -> str | None:
    """The media type to answer the credential in, when Accept prefers it to HTML; None for the page.
    `application/vc` is answered as `application/vc`; the other JSON types as `application/vc+ld+json`."""
    preferred = request.get_preferred_type(BADGE_MEDIA_TYPES)
    if preferred in (None, "text/html"):
        return None
    return VC_MEDIA_TYPE if preferred == VC_MEDIA_TYPE else "application/vc+ld+json"


@require_GET
@vary_on_headers("Accept")
def badge_page(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The learner's page; a JSON-LD client asking for the credential's id gets the credential."""
    award = _public(public_id)
    media_type = _credential_type_wanted(request)
    if media_type:
        return _credential_response(award, media_type)
    credential = award.credential
    endorsement = (credential["credentialSubject"]["achievement"].get("endorsement") or [None])[0]
    # Our own DIDs and status lists: read locally, no network; archived copies under the page's cached check.
    report = credential_verify(credential, cached_copies=True)
    url = award_url(award.public_id)
    name = (in_language(award.endorsement.application.snapshot, "name").text
            or credential["credentialSubject"]["achievement"]["name"])
    share = award_share(award, name=name, url=url, labels=share_labels())
    return render(request, "badges/awards/badge.html", {
        "share": share, "share_name": name, "certificate_languages": CERTIFICATE_LANGUAGES,
        "report": report, "words": plain_words(credential, report),
        "award": award, "programme": award.programme, "standing": award_standing(award),
        "credential": credential, "achievement": credential["credentialSubject"]["achievement"],
        "endorsement_credential": endorsement, "endorsement": award.endorsement,
        "credential_json": json.dumps(credential, ensure_ascii=False, indent=2),
        "url": url,
        # The name as the badge itself carries it: none when the organisation hashes or omits names.
        "shown_name": next((i.get("identityHash") for i in credential["credentialSubject"].get("identifier", [])
                            if i.get("identityType") == "name" and not i.get("hashed")), ""),
        "image_mark": image_mark(award), **_evidence_context(award),
    })


def share_labels() -> dict[str, str]:
    """The share links' names, in the page's language."""
    return {"linkedin": _("Share on LinkedIn"), "x": _("Post on X"), "facebook": _("Share on Facebook"),
            "email": _("Send by e-mail"), "qr": _("QR code of this badge's verification page")}


def _evidence_context(award: Award) -> dict[str, Any]:
    """The evidence items of an award as its pages show them (badges.archive, badges.evidence)."""
    return {"evidence_items": evidence_items(award), "link_standing": evidence_standing_for(award)}


@require_GET
def badge_json(request: HttpRequest, public_id: Any) -> HttpResponse:
    response = _credential_response(_public(public_id))
    response["Content-Disposition"] = f'inline; filename="badge-{public_id}.json"'
    return response


@require_GET
def badge_png(request: HttpRequest, public_id: Any) -> HttpResponse:
    award = _public(public_id)
    response = HttpResponse(award_png(award), content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="badge-{public_id}.png"'
    return response


@require_GET
def badge_svg(request: HttpRequest, public_id: Any) -> HttpResponse:
    award = _public(public_id)
    response = HttpResponse(award_svg(award), content_type="image/svg+xml")
    response["Content-Disposition"] = f'inline; filename="badge-{public_id}.svg"'
    # A baked SVG is served as a download-able image, never as a document that could run anything.
    # (img-src data: for the PNG an SVG download of a PNG badge shows.)
    response["Content-Security-Policy"] = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox"
    return response


@require_GET
def badge_certificate(request: HttpRequest, public_id: Any, language: str) -> HttpResponse:
    """The printable certificate (A4 PDF) in Japanese or English (badges.certificate). When this
    server cannot draw it (library or Japanese font missing), a page saying so, with status 503."""
    if language not in CERTIFICATE_LANGUAGES:
        raise Http404(_("No such certificate."))
    award = _public(public_id)
    try:
        pdf = certificate_pdf(award, language)
    except CertificateUnavailable as error:
        return render(request, "badges/awards/certificate_unavailable.html",
                      {"award": award, "message": error.message}, status=error.status_code)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="certificate-{public_id}-{language}.pdf"'
    return response
