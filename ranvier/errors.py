"""The one client-visible error type (DESIGN.md, principle 6)."""

from __future__ import annotations

from typing import Any


class MatrixError(Exception):
    """A failure rendered as the spec's `{"errcode", "error", ...}` body."""

    def __init__(
        self, status: int, errcode: str, message: str, **extra: Any
    ) -> None:
        super().__init__(f"{errcode}: {message}")
        self.status = status
        self.errcode = errcode
        self.message = message
        self.extra = extra

    def to_json(self) -> dict[str, Any]:
        return {"errcode": self.errcode, "error": self.message, **self.extra}
