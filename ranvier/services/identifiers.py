"""Which account a login or UIA request names (client-server API "Identifier types")."""

from __future__ import annotations

from typing import Any

from ranvier.errors import MatrixError
from ranvier.storage.accounts import AccountsStore


def user_id_from_identifier(body: dict[str, Any], server_name: str) -> str:
    """The fully qualified user ID a login body names, from `identifier` (m.id.user) or
    the deprecated top-level `user`. Not yet checked to exist."""
    identifier = body.get("identifier")
    if identifier is not None:
        if not isinstance(identifier, dict):
            raise MatrixError(400, "M_BAD_JSON", "'identifier' must be an object")
        if identifier.get("type") != "m.id.user":
            raise MatrixError(
                400, "M_UNKNOWN", f"Unknown login identifier type {identifier.get('type')!r}"
            )
        user = identifier.get("user")
    else:
        user = body.get("user")
    if not isinstance(user, str) or not user:
        raise MatrixError(400, "M_MISSING_PARAM", "Missing identifier 'user'")
    return user if user.startswith("@") else f"@{user}:{server_name}"


async def find_account(accounts: AccountsStore, user_id: str) -> str | None:
    """The stored user ID matching `user_id`: exactly, or case-insensitively when only
    one account matches that way (as Synapse does for historical mixed-case IDs)."""
    matches = await accounts.find_user_ids_case_insensitive(user_id)
    if user_id in matches:
        return user_id
    return matches[0] if len(matches) == 1 else None
