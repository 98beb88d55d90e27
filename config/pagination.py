"""The API's one pagination: `limit`/`offset`, 50 a page by default, never more than 1,000 rows a
page whatever `limit` asks (a larger one is clamped, a limit beyond any integer the database knows
included). An offset past the end answers an empty page without querying rows."""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination

MAX_PAGE_SIZE = 1000


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = MAX_PAGE_SIZE

    def get_offset(self, request) -> int:
        # DRF keeps any offset; past the end (checked against the count) the page is empty, and an
        # offset beyond a 64-bit integer would reach the database only through that path, so clamp it.
        return min(super().get_offset(request), 2**62)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.limit_query_param:
                parameter["description"] = f"Number of results to return per page (at most {self.max_limit:,})."
                parameter["schema"]["maximum"] = self.max_limit
                parameter["schema"]["minimum"] = 1
            elif parameter["name"] == self.offset_query_param:
                parameter["schema"]["minimum"] = 0
        return parameters
