"""The body's admin for the endorsement workflow: criteria tables, the review queue and application
pages, endorsements and the audit trail. Shared access rules and buttons: institutions.admin."""

from endorsement.admin import applications, audit, criteria, endorsements, outbox, quality, reports

__all__ = ["applications", "audit", "criteria", "endorsements", "outbox", "quality", "reports"]
