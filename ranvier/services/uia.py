"""User-interactive authentication (client-server API "User-interactive authentication
API"): sessions that collect completed stages until one of the endpoint's flows is
done. Sessions live in the database, so a restart does not break a flow half-way."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from ranvier.clock import Clock
from ranvier.config import Config
from ranvier.errors import MatrixError
from ranvier.services.identifiers import find_account, user_id_from_identifier
from ranvier.services.passwords import PasswordHasher
from ranvier.storage.accounts import AccountsStore
from ranvier.storage.uia import UIASession, UIAStore

DUMMY = "m.login.dummy"
PASSWORD = "m.login.password"
REGISTRATION_TOKEN = "m.login.registration_token"

Flows = list[list[str]]


class InteractiveAuthRequired(MatrixError):
    """The 401 of UIA: which flows exist, what is done, and why the last stage failed
    (the errcode is present only when a stage failed)."""

    def __init__(self, body: dict[str, Any], errcode: str | None = None, message: str = "") -> None:
        super().__init__(401, errcode or "", message or "Additional authentication required")
        self.body = body
        self.failed = errcode is not None

    def to_json(self) -> dict[str, Any]:
        if not self.failed:
            return self.body
        return {"errcode": self.errcode, "error": self.message, **self.body}


@dataclass(frozen=True, slots=True)
class Remembered:
    """What a UIA session remembers of the request it authorises."""

    #: The request's parameters (all but `auth`): its own, or those of an earlier
    #: request of the session when it sends none.
    params: dict[str, Any]
    #: What an earlier completion of the same session answered (None: not completed).
    result: Any


class UIAService:
    def __init__(
        self,
        config: Config,
        clock: Clock,
        sessions: UIAStore,
        accounts: AccountsStore,
        passwords: PasswordHasher,
    ) -> None:
        self._config = config
        self._clock = clock
        self._sessions = sessions
        self._accounts = accounts
        self._passwords = passwords

    def registration_flows(self) -> Flows:
        if self._config.registration_requires_token:
            return [[REGISTRATION_TOKEN]]
        return [[DUMMY]]

    async def authenticate(
        self,
        auth: Any,
        flows: Flows,
        *,
        method: str,
        uri: str,
        user_id: str | None,
    ) -> dict[str, Any]:
        """Return the completed stages (stage -> result) once a flow is complete;
        otherwise raise `InteractiveAuthRequired`. `user_id` is the account the request
        acts for (None for registration): password stages must prove that account."""
        session_id, completed = await self._authenticate(
            auth, flows, method=method, uri=uri, user_id=user_id, params=None
        )
        await self._sessions.delete_session(session_id)
        return completed

    async def recall(
        self, auth: Any, params: dict[str, Any], *, method: str, uri: str
    ) -> Remembered:
        """The parameters a request stands for, and what its session answered before.

        Clients may send the parameters only in the first request of a session and then
        just `auth` (Synapse accepts this and SyTest relies on it), and may retry a
        completed request with the same session, which must not act twice. A session of
        another request is ignored here (`authenticate_request` refuses it)."""
        session_id = auth.get("session") if isinstance(auth, dict) else None
        session = (
            await self._sessions.get_session(session_id)
            if isinstance(session_id, str) else None
        )
        if session is None or (session.method, session.uri) != (method, uri):
            return Remembered(params, None)
        return Remembered(params or session.data.get("params", {}), session.data.get("result"))

    async def authenticate_request(
        self,
        auth: Any,
        flows: Flows,
        params: dict[str, Any],
        *,
        method: str,
        uri: str,
        user_id: str | None,
    ) -> tuple[str, dict[str, Any]]:
        """Like `authenticate`, for requests whose session remembers their parameters
        (see `recall`); returns the session ID (for `record_result`) and the completed
        stages. The completed session stays until it expires, so that a retry gets the
        same answer."""
        return await self._authenticate(
            auth, flows, method=method, uri=uri, user_id=user_id, params=params
        )

    async def record_result(self, session_id: str, params: dict[str, Any], result: Any) -> None:
        """Remember what the completed request answered (JSON), for retries."""
        await self._sessions.set_data(session_id, {"params": params, "result": result})

    async def _authenticate(
        self,
        auth: Any,
        flows: Flows,
        *,
        method: str,
        uri: str,
        user_id: str | None,
        params: dict[str, Any] | None,
    ) -> tuple[str, dict[str, Any]]:
        if auth is not None and not isinstance(auth, dict):
            raise MatrixError(400, "M_BAD_JSON", "'auth' must be an object")
        session = await self._session_for(auth, method, uri, user_id)
        if params and params != session.data.get("params"):
            await self._sessions.set_data(session.session_id, {"params": params})
        completed = session.completed
        stage = auth.get("type") if auth else None
        if stage is not None:
            if not any(stage in flow for flow in flows):
                raise MatrixError(400, "M_UNRECOGNIZED", f"Unrecognised auth stage {stage!r}")
            try:
                result = await self._check_stage(stage, auth)
            except MatrixError as e:
                raise InteractiveAuthRequired(
                    self._status(flows, session.session_id, completed), e.errcode, e.message
                ) from None
            if stage == PASSWORD and result != user_id:
                # Someone else's valid credentials: not a stage to retry but a forbidden
                # request (403, as Synapse answers; SyTest 12device_management.pl).
                raise MatrixError(403, "M_FORBIDDEN", "You can only authenticate as yourself")
            completed = await self._sessions.mark_completed(session.session_id, stage, result)
        if any(set(flow) <= set(completed) for flow in flows):
            return session.session_id, completed
        raise InteractiveAuthRequired(self._status(flows, session.session_id, completed))

    async def _session_for(
        self, auth: dict[str, Any] | None, method: str, uri: str, user_id: str | None
    ) -> UIASession:
        now = self._clock.time_ms()
        session_id = auth.get("session") if auth else None
        if session_id is None:
            # A first request may already carry a stage (e.g. m.login.dummy): it then
            # runs in a new session, as if the 401 had been answered.
            await self._sessions.delete_sessions_before(
                now - self._config.ui_auth_session_timeout_ms
            )
            session_id = secrets.token_urlsafe(24)
            await self._sessions.create_session(session_id, now, method, uri, user_id)
        elif not isinstance(session_id, str):
            raise MatrixError(400, "M_BAD_JSON", "'auth.session' must be a string")
        session = await self._sessions.get_session(session_id)
        if session is None or session.created_ts + self._config.ui_auth_session_timeout_ms < now:
            raise MatrixError(400, "M_UNKNOWN", "Unknown or expired UIA session")
        if (session.method, session.uri, session.user_id) != (method, uri, user_id):
            raise MatrixError(
                403, "M_FORBIDDEN",
                "Requested operation has changed during the UI authentication session",
            )
        return session

    async def _check_stage(self, stage: str, auth: dict[str, Any]) -> Any:
        if stage == DUMMY:
            return True
        if stage == PASSWORD:
            return await self._check_password(auth)
        if stage == REGISTRATION_TOKEN:
            token = auth.get("token")
            if not isinstance(token, str):
                raise MatrixError(400, "M_MISSING_PARAM", "Missing registration 'token'")
            if not await self._accounts.reserve_registration_token(token, self._clock.time_ms()):
                raise MatrixError(401, "M_UNAUTHORIZED", "Invalid registration token")
            return token
        raise MatrixError(400, "M_UNRECOGNIZED", f"Unrecognised auth stage {stage!r}")

    async def _check_password(self, auth: dict[str, Any]) -> str:
        """The user whose password this is (M_FORBIDDEN if it is not)."""
        password = auth.get("password")
        if not isinstance(password, str):
            raise MatrixError(400, "M_MISSING_PARAM", "Missing 'password'")
        named = await find_account(
            self._accounts, user_id_from_identifier(auth, self._config.server_name)
        )
        user = await self._accounts.get_user(named) if named else None
        ok = await self._passwords.verify(user.password_hash if user else None, password)
        if not ok or user is None or user.deactivated:
            raise MatrixError(403, "M_FORBIDDEN", "Invalid username or password")
        return user.user_id

    def _status(self, flows: Flows, session_id: str, completed: dict[str, Any]) -> dict[str, Any]:
        return {
            "flows": [{"stages": flow} for flow in flows],
            "params": {},
            "session": session_id,
            "completed": list(completed),
        }
