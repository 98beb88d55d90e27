"""Public machine-readable documents (badges.ld_views) and the audit checkpoints (endorsement.checkpoint_views)."""

from django.urls import path, re_path

from badges import evidence_views, ld_views, ob2_views
from endorsement import checkpoint_views, federation_views
from pathways import views as pathway_views

urlpatterns = [
    path(".well-known/did.json", ld_views.body_did, name="body-did"),
    # The body as an OpenID Federation trust anchor (endorsement.trust, docs/api.md).
    path(".well-known/openid-federation", federation_views.entity_configuration, name="federation-configuration"),
    path("federation/fetch", federation_views.fetch, name="federation-fetch"),
    path("federation/list", federation_views.subordinate_list, name="federation-list"),
    path("organisations/<slug:slug>/did.json", ld_views.organisation_did, name="organisation-did"),
    path("achievements/<uuid:public_id>", ld_views.achievement, name="achievement"),
    path("achievements/<uuid:public_id>.json", ld_views.achievement, {"as_json": True}, name="achievement-json"),
    path("achievements/<uuid:public_id>/v<int:version>", ld_views.achievement, name="achievement-version"),
    path("achievements/<uuid:public_id>/v<int:version>.json", ld_views.achievement, {"as_json": True},
         name="achievement-version-json"),
    # The edition in the programme's other language (the Achievement's `related`, docs/credentials.md).
    re_path(r"^achievements/(?P<public_id>[0-9a-f-]{36})/(?P<language>ja|en)\.json$", ld_views.achievement,
            {"as_json": True}, name="achievement-language-json"),
    re_path(r"^achievements/(?P<public_id>[0-9a-f-]{36})/(?P<language>ja|en)$", ld_views.achievement,
            name="achievement-language"),
    re_path(r"^achievements/(?P<public_id>[0-9a-f-]{36})/v(?P<version>[0-9]+)/(?P<language>ja|en)\.json$",
            ld_views.achievement, {"as_json": True}, name="achievement-version-language-json"),
    re_path(r"^achievements/(?P<public_id>[0-9a-f-]{36})/v(?P<version>[0-9]+)/(?P<language>ja|en)$",
            ld_views.achievement, name="achievement-version-language"),
    # A pathway's Achievement (pathways.achievements): the same shapes under /achievements/pathways/.
    path("achievements/pathways/<uuid:public_id>", pathway_views.pathway_achievement, name="pathway-achievement"),
    path("achievements/pathways/<uuid:public_id>.json", pathway_views.pathway_achievement, {"as_json": True},
         name="pathway-achievement-json"),
    path("achievements/pathways/<uuid:public_id>/v<int:version>", pathway_views.pathway_achievement,
         name="pathway-achievement-version"),
    path("achievements/pathways/<uuid:public_id>/v<int:version>.json", pathway_views.pathway_achievement,
         {"as_json": True}, name="pathway-achievement-version-json"),
    re_path(r"^achievements/pathways/(?P<public_id>[0-9a-f-]{36})/(?P<language>ja|en)\.json$",
            pathway_views.pathway_achievement, {"as_json": True}, name="pathway-achievement-language-json"),
    re_path(r"^achievements/pathways/(?P<public_id>[0-9a-f-]{36})/(?P<language>ja|en)$",
            pathway_views.pathway_achievement, name="pathway-achievement-language"),
    re_path(r"^achievements/pathways/(?P<public_id>[0-9a-f-]{36})/v(?P<version>[0-9]+)/(?P<language>ja|en)\.json$",
            pathway_views.pathway_achievement, {"as_json": True}, name="pathway-achievement-version-language-json"),
    re_path(r"^achievements/pathways/(?P<public_id>[0-9a-f-]{36})/v(?P<version>[0-9]+)/(?P<language>ja|en)$",
            pathway_views.pathway_achievement, name="pathway-achievement-version-language"),
    path("credentials/endorsements/<uuid:public_id>", ld_views.endorsement_credential,
         name="endorsement-credential"),
    path("status/<slug:slug>/<str:purpose>/<int:number>", ld_views.status_list, name="status-list"),
    # The Open Badges 2.0 hosted mirror (badges.ob2, docs/api.md).
    path("ob2/issuers/<slug:slug>", ob2_views.issuer, name="ob2-issuer"),
    path("ob2/issuers/<slug:slug>/revocations", ob2_views.revocations, name="ob2-revocations"),
    path("ob2/badgeclasses/<uuid:public_id>", ob2_views.badge_class, name="ob2-badgeclass"),
    path("ob2/badgeclasses/<uuid:public_id>/v<int:version>", ob2_views.badge_class, name="ob2-badgeclass-version"),
    path("ob2/badgeclasses/<uuid:public_id>/image.png", ob2_views.badge_class_image, name="ob2-badgeclass-image"),
    path("ob2/endorsements/<uuid:public_id>", ob2_views.endorsement, name="ob2-endorsement"),
    path("ob2/assertions/<uuid:public_id>", ob2_views.assertion, name="ob2-assertion"),
    path("ob2/assertions/<uuid:public_id>.png", ob2_views.assertion_png, name="ob2-assertion-png"),
    path("evidence/<str:token>", evidence_views.evidence_copy, name="evidence-copy"),
    path("audit/checkpoints.json", checkpoint_views.checkpoint_list, name="audit-checkpoints"),
    path("audit/checkpoints/latest.json", checkpoint_views.checkpoint_latest, name="audit-checkpoint-latest"),
    path("audit/checkpoints/<int:seq>.json", checkpoint_views.checkpoint_at, name="audit-checkpoint"),
]
