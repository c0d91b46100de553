"""ApiError: an HTTP error answer (status + one-sentence message), always sent as a JSON object."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """`{"status": 422, "message": "...", "field": "beam"}`; `field` or `limit` name the culprit."""

    def __init__(
        self, status: int, message: str, *, field: str | None = None, limit: str | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.field, self.limit = status, message, field, limit

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        if self.limit is not None:
            out["limit"] = self.limit
        return out
