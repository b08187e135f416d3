"""End-to-end encryption keys: /keys/upload, /keys/query, /keys/claim,
/keys/device_signing/upload and /keys/signatures/upload (client-server API,
"End-to-End Encryption": "Key management API" and "Cross-signing").

The server checks what it can (owners, shapes, signatures) and stores the JSON as
uploaded; clients check the signatures again, so nothing here is trusted blindly.
Remote users are not served until federation exists: they are left out of answers,
with `failures` empty.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ranvier.errors import MatrixError
from ranvier.protocol import e2e_keys as rules
from ranvier.protocol.errors import InvalidIdentifier, SignatureError
from ranvier.protocol.identifiers import server_name_of
from ranvier.services.device_lists import DeviceListsService
from ranvier.storage.devices import DevicesStore
from ranvier.storage.e2e_keys import E2EKeysStore, OneTimeKey, Signature

JsonDict = dict[str, Any]
#: Listed in one_time_key_counts even at zero: libolm-era clients only top up their
#: keys when they see the count for this algorithm.
SIGNED_CURVE25519 = "signed_curve25519"


def _invalid(e: rules.InvalidKey) -> MatrixError:
    """A malformed key is a malformed body (M_BAD_JSON); a well-formed one with a wrong
    value, such as another user's ID, is a bad value (M_INVALID_PARAM)."""
    errcode = "M_BAD_JSON" if isinstance(e, rules.MalformedKey) else "M_INVALID_PARAM"
    return MatrixError(400, errcode, str(e))


def _bad_signature(e: SignatureError) -> MatrixError:
    return MatrixError(400, "M_INVALID_SIGNATURE", str(e))


def _failure(error: MatrixError) -> JsonDict:
    return {"errcode": error.errcode, "error": error.message}


def _with_signatures(obj: JsonDict, signatures: list[Signature]) -> JsonDict:
    """A copy of a key with stored signatures merged into its `signatures`."""
    merged = copy.deepcopy(obj)
    for s in signatures:
        merged.setdefault("signatures", {}).setdefault(s.signer_user_id, {})[
            s.signer_key_id
        ] = s.signature
    return merged


def _parse_key_map(keys: Any, field: str) -> list[OneTimeKey]:
    """`{"<algorithm>:<key_id>": key}` as uploaded for one-time and fallback keys."""
    if not isinstance(keys, dict):
        raise MatrixError(400, "M_BAD_JSON", f"{field} must be an object")
    parsed = []
    for full_id, key in keys.items():
        algorithm, sep, key_id = full_id.partition(":")
        if not (sep and algorithm and key_id):
            raise MatrixError(
                400, "M_INVALID_PARAM", f"{field}: {full_id!r} is not <algorithm>:<key_id>"
            )
        if not isinstance(key, str | dict):
            raise MatrixError(400, "M_BAD_JSON", f"{field}.{full_id} must be a string or object")
        parsed.append(OneTimeKey(algorithm, key_id, key))
    return parsed


class E2EKeysService:
    def __init__(
        self,
        store: E2EKeysStore,
        devices: DevicesStore,
        device_lists: DeviceListsService,
        server_name: str,
    ) -> None:
        self._store = store
        self._devices = devices
        self._device_lists = device_lists
        self._server_name = server_name

    def _is_local(self, user_id: str) -> bool:
        try:
            return server_name_of(user_id) == self._server_name
        except InvalidIdentifier:  # not a user ID at all: nobody we hold keys for
            return False

    # --- upload, counts -----------------------------------------------------------------

    async def upload_keys(
        self,
        user_id: str,
        device_id: str,
        device_keys: JsonDict | None,
        one_time_keys: Any,
        fallback_keys: Any,
    ) -> dict[str, int]:
        """POST /keys/upload: everything is checked before anything is stored. Returns
        one_time_key_counts."""
        if device_keys is not None:
            try:
                rules.check_device_keys(device_keys, user_id, device_id)
            except rules.InvalidKey as e:
                raise _invalid(e) from None
        otks = _parse_key_map(one_time_keys or {}, "one_time_keys")
        fallbacks = _parse_key_map(fallback_keys or {}, "fallback_keys")
        algorithms = [k.algorithm for k in fallbacks]
        if len(set(algorithms)) != len(algorithms):
            raise MatrixError(
                400, "M_INVALID_PARAM", "fallback_keys may hold one key per algorithm"
            )
        existing = await self._store.get_one_time_keys(
            user_id, device_id, [(k.algorithm, k.key_id) for k in otks]
        )
        for key in otks:
            old = existing.get((key.algorithm, key.key_id), key.key)
            if old != key.key:
                raise MatrixError(
                    400, "M_INVALID_PARAM",
                    f"One-time key {key.full_id} already exists with a different value",
                )

        changed = False
        if device_keys is not None:
            changed = await self._store.get_device_keys(user_id, device_id) != device_keys
            if changed:
                await self._store.set_device_keys(user_id, device_id, device_keys)
        await self._store.add_one_time_keys(user_id, device_id, otks)
        for key in fallbacks:
            await self._store.set_fallback_key(user_id, device_id, key)
        if changed:
            await self._device_lists.devices_changed(user_id)
        return await self.one_time_key_counts(user_id, device_id)

    async def one_time_key_counts(self, user_id: str, device_id: str) -> dict[str, int]:
        """Unclaimed one-time keys per algorithm (/sync device_one_time_keys_count)."""
        return {SIGNED_CURVE25519: 0, **await self._store.count_one_time_keys(user_id, device_id)}

    async def counts_for_sync(
        self, user_id: str, device_id: str
    ) -> tuple[dict[str, int], list[str]]:
        """`one_time_key_counts`, and the algorithms with an unused fallback key
        (/sync device_unused_fallback_key_types)."""
        counts, fallbacks = await self._store.key_counts(user_id, device_id)
        return {SIGNED_CURVE25519: 0, **counts}, fallbacks

    # --- query, claim -------------------------------------------------------------------

    async def query_keys(self, requester: str, wanted: Mapping[str, Any]) -> JsonDict:
        """POST /keys/query: `wanted` is user -> device IDs (empty: all devices)."""
        for user_id, device_ids in wanted.items():
            if not isinstance(device_ids, list) or not all(
                isinstance(d, str) for d in device_ids
            ):
                raise MatrixError(
                    400, "M_BAD_JSON", f"device_keys.{user_id} must be a list of device IDs"
                )
        result: JsonDict = {
            "device_keys": {}, "failures": {},
            "master_keys": {}, "self_signing_keys": {}, "user_signing_keys": {},
        }
        for user_id, device_ids in wanted.items():
            if not self._is_local(user_id):
                continue
            result["device_keys"][user_id] = await self._device_keys_of(
                user_id, device_ids or None
            )
            cross_signing = await self._store.get_cross_signing_keys(user_id)
            if master := cross_signing.get(rules.MASTER):
                result["master_keys"][user_id] = await self._visible_master_key(
                    requester, user_id, master
                )
            if self_signing := cross_signing.get(rules.SELF_SIGNING):
                result["self_signing_keys"][user_id] = self_signing
            # The user-signing key is its owner's business alone (spec, "Cross-signing").
            if user_id == requester and (user_signing := cross_signing.get(rules.USER_SIGNING)):
                result["user_signing_keys"][user_id] = user_signing
        return result

    async def _device_keys_of(self, user_id: str, device_ids: list[str] | None) -> JsonDict:
        rows = await self._store.query_device_keys(user_id, device_ids)
        signatures = await self._store.get_signatures(user_id, [r.device_id for r in rows])
        answer = {}
        for row in rows:
            keys = _with_signatures(
                row.keys, [s for s in signatures if s.target_key_id == row.device_id]
            )
            # `unsigned` is always there, as Synapse sends it (clients and SyTest read
            # it); the display name only when the device has one.
            unsigned = keys.setdefault("unsigned", {})
            if row.display_name is not None:
                unsigned["device_display_name"] = row.display_name
            answer[row.device_id] = keys
        return answer

    async def _visible_master_key(self, requester: str, user_id: str, master: JsonDict) -> JsonDict:
        """The master key with the signatures `requester` may see: those of its owner's
        devices, and those of the requester's own user-signing key."""
        public_key = _public_key(master)
        signatures = await self._store.get_signatures(user_id, [public_key])
        return _with_signatures(
            master, [s for s in signatures if s.signer_user_id in (user_id, requester)]
        )

    async def claim_keys(self, wanted: Mapping[str, Any]) -> JsonDict:
        """POST /keys/claim: per device, a one-time key of the algorithm, else its
        fallback key (which stays, marked used)."""
        for user_id, devices in wanted.items():
            if not isinstance(devices, dict) or not all(
                isinstance(a, str) for a in devices.values()
            ):
                raise MatrixError(
                    400, "M_BAD_JSON",
                    f"one_time_keys.{user_id} must map device IDs to algorithms",
                )
        claimed: JsonDict = {}
        for user_id, devices in wanted.items():
            if not self._is_local(user_id):
                continue
            for device_id, algorithm in devices.items():
                key = await self._store.claim_one_time_key(user_id, device_id, algorithm)
                if key is None:
                    key = await self._store.claim_fallback_key(user_id, device_id, algorithm)
                if key is not None:
                    claimed.setdefault(user_id, {})[device_id] = {key.full_id: key.key}
        return {"one_time_keys": claimed, "failures": {}}

    # --- cross-signing ------------------------------------------------------------------

    async def upload_cross_signing_keys(
        self,
        user_id: str,
        uploaded: Mapping[str, JsonDict | None],
        authenticate: Callable[[], Awaitable[object]],
    ) -> None:
        """POST /keys/device_signing/upload: `uploaded` is usage -> key (None: not
        sent). `authenticate` runs user-interactive auth; it is skipped when the user
        has no master key yet, or when every key sent is the one already stored."""
        existing = await self._store.get_cross_signing_keys(user_id)
        new: dict[str, tuple[str, JsonDict]] = {}
        for usage in rules.CROSS_SIGNING_USAGES:
            key = uploaded.get(usage)
            if key is None:
                continue
            try:
                new[usage] = (rules.check_cross_signing_key(key, user_id, usage), key)
            except rules.InvalidKey as e:
                raise _invalid(e) from None
        master = new.get(rules.MASTER) or (
            (_public_key(existing[rules.MASTER]), existing[rules.MASTER])
            if rules.MASTER in existing else None
        )
        for usage in (rules.SELF_SIGNING, rules.USER_SIGNING):
            if usage not in new:
                continue
            if master is None:
                raise MatrixError(400, "M_MISSING_PARAM", "No master signing key is available")
            try:
                rules.verify_key_signature(
                    new[usage][1], user_id, f"{rules.ED25519}:{master[0]}", master[0]
                )
            except SignatureError as e:
                raise _bad_signature(e) from None
        device_ids = {d.device_id for d in await self._devices.get_devices(user_id)}
        for usage, (public_key, _) in new.items():
            if public_key in device_ids:
                raise MatrixError(
                    403, "M_FORBIDDEN", f"The {usage} key's public key is one of your device IDs"
                )
        changed = {usage for usage, (_, key) in new.items() if existing.get(usage) != key}
        if rules.MASTER in existing and changed:
            await authenticate()
        if not changed:
            return
        await self._store.set_cross_signing_keys(user_id, new)
        if changed == {rules.USER_SIGNING}:
            # Only its owner ever sees a user-signing key: nobody else has anything
            # to fetch again (Synapse tells only the owner too; SyTest checks it).
            await self._device_lists.signatures_changed_for(user_id, [user_id])
        else:
            await self._device_lists.devices_changed(user_id)

    async def upload_signatures(self, user_id: str, body: Mapping[str, Any]) -> JsonDict:
        """POST /keys/signatures/upload: signatures of the user's own devices (by their
        self-signing key), of their own master key (by one of their devices), and of
        other users' master keys (by their user-signing key). Each is verified;
        `failures` says which were refused and why."""
        for target_user, objects in body.items():
            if not isinstance(objects, dict) or not all(
                isinstance(o, dict) for o in objects.values()
            ):
                raise MatrixError(
                    400, "M_BAD_JSON", f"{target_user} must map key IDs to signed objects"
                )
        own = await self._store.get_cross_signing_keys(user_id)
        accepted: list[Signature] = []
        failures: JsonDict = {}
        for target_user, objects in body.items():
            target_keys = own if target_user == user_id else (
                await self._store.get_cross_signing_keys(target_user)
                if self._is_local(target_user) else {}
            )
            for key_id, signed in objects.items():
                try:
                    accepted.extend(
                        await self._check_signature_upload(
                            user_id, own, target_user, target_keys, key_id, signed
                        )
                    )
                except MatrixError as e:
                    failures.setdefault(target_user, {})[key_id] = _failure(e)
        await self._store.add_signatures(accepted)
        if any(s.target_user_id == user_id for s in accepted):
            await self._device_lists.devices_changed(user_id)
        others = {s.target_user_id for s in accepted} - {user_id}
        if others:
            await self._device_lists.signatures_changed_for(user_id, others)
        return {"failures": failures}

    async def _check_signature_upload(
        self,
        user_id: str,
        own: Mapping[str, JsonDict],
        target_user: str,
        target_keys: Mapping[str, JsonDict],
        key_id: str,
        signed: JsonDict,
    ) -> list[Signature]:
        """The signatures to store for one uploaded object, or a MatrixError saying why
        it is refused."""
        master = target_keys.get(rules.MASTER)
        if master is not None and key_id == _public_key(master):
            _check_same_key(signed, master)
            if target_user == user_id:
                return await self._device_signatures_of_master(user_id, key_id, signed)
            return [_signature_by(own, rules.USER_SIGNING, user_id, target_user, key_id, signed)]
        if target_user != user_id:
            raise MatrixError(404, "M_NOT_FOUND", f"{target_user} has no master key {key_id}")
        device_keys = await self._store.get_device_keys(user_id, key_id)
        if device_keys is None:
            raise MatrixError(404, "M_NOT_FOUND", f"No device or key {key_id}")
        _check_same_key(signed, device_keys)
        return [_signature_by(own, rules.SELF_SIGNING, user_id, user_id, key_id, signed)]

    async def _device_signatures_of_master(
        self, user_id: str, master_key: str, signed: JsonDict
    ) -> list[Signature]:
        """Signatures of a user's master key by the user's own devices."""
        found = []
        for signer_key_id, signature in signed.get("signatures", {}).get(user_id, {}).items():
            algorithm, _, device_id = signer_key_id.partition(":")
            if algorithm != rules.ED25519 or device_id == master_key:
                continue
            device_keys = await self._store.get_device_keys(user_id, device_id)
            public_key = (device_keys or {}).get("keys", {}).get(signer_key_id)
            if public_key is None:
                raise MatrixError(404, "M_NOT_FOUND", f"No device key {signer_key_id}")
            _verify(signed, user_id, signer_key_id, public_key)
            found.append(Signature(user_id, signer_key_id, user_id, master_key, signature))
        if not found:
            raise MatrixError(400, "M_INVALID_SIGNATURE", "No signature by one of your devices")
        return found

    # --- devices going away -------------------------------------------------------------

    async def on_devices_deleted(self, user_id: str, device_ids: list[str] | None) -> None:
        """A deleted device takes its keys with it; the user's contacts must hear of it."""
        await self._store.delete_device_keys(user_id, device_ids)
        await self._device_lists.devices_changed(user_id)


def _public_key(key: JsonDict) -> str:
    """The public half of a stored cross-signing key (it holds exactly one)."""
    (public_key,) = key["keys"].values()
    return str(public_key)


def _check_same_key(signed: JsonDict, stored: JsonDict) -> None:
    if rules.signed_content(signed) != rules.signed_content(stored):
        raise MatrixError(400, "M_INVALID_PARAM", "The signed object does not match the stored key")


def _verify(signed: JsonDict, signer: str, key_id: str, public_key: str) -> None:
    try:
        rules.verify_key_signature(signed, signer, key_id, public_key)
    except SignatureError as e:
        raise _bad_signature(e) from None


def _signature_by(
    own: Mapping[str, JsonDict],
    usage: str,
    user_id: str,
    target_user: str,
    target_key_id: str,
    signed: JsonDict,
) -> Signature:
    """The signature of `signed` by the user's cross-signing key of `usage`, verified."""
    signing_key = own.get(usage)
    if signing_key is None:
        raise MatrixError(404, "M_NOT_FOUND", f"You have no {usage} key")
    public_key = _public_key(signing_key)
    signer_key_id = f"{rules.ED25519}:{public_key}"
    _verify(signed, user_id, signer_key_id, public_key)
    return Signature(
        user_id, signer_key_id, target_user, target_key_id,
        signed["signatures"][user_id][signer_key_id],
    )
