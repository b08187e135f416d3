"""Typed request bodies: a dataclass per request, checked field by field.

`parse_body(LoginRequest, body)` returns a `LoginRequest` or raises M_BAD_JSON /
M_MISSING_PARAM naming the field, so route logic never sees an ill-typed value.
Supported field types: str, int, bool, float, dict, list, Any, `X | None`, and nested
dataclasses. A field named differently in JSON sets `metadata={"json": "name"}`.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

from ranvier.errors import MatrixError

M = TypeVar("M")

_MISSING = dataclasses.MISSING


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _check(value: Any, hint: Any, where: str) -> Any:
    origin = get_origin(hint)
    if hint is Any:
        return value
    if origin in (types.UnionType, typing.Union):
        args = get_args(hint)
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _check(value, inner, where)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise MatrixError(400, "M_BAD_JSON", f"{where} must be an object")
        return _parse(hint, value, where + ".")
    base = origin or hint
    ok = isinstance(value, base)
    if base in (int, float) and isinstance(value, bool):
        ok = False
    if base is float and isinstance(value, int) and not isinstance(value, bool):
        ok = True
    if not ok:
        raise MatrixError(400, "M_BAD_JSON", f"{where} must be of type {_name(base)}")
    if base is list and get_args(hint):
        (item,) = get_args(hint)
        return [_check(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def _name(base: type) -> str:
    return {str: "string", int: "integer", bool: "boolean", float: "number",
            dict: "object", list: "array"}.get(base, base.__name__)


def _parse(cls: type[M], body: dict[str, Any], prefix: str) -> M:
    hints = _hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        key = f.metadata.get("json", f.name)
        where = prefix + key
        has_default = f.default is not _MISSING or f.default_factory is not _MISSING
        # An explicit null means "not given" for fields that have a default.
        if key not in body or (body[key] is None and has_default):
            if not has_default:
                raise MatrixError(400, "M_MISSING_PARAM", f"Missing field {where!r}")
            continue
        values[f.name] = _check(body[key], hints[f.name], where)
    return cls(**values)


def parse_body(cls: type[M], body: dict[str, Any]) -> M:
    return _parse(cls, body, "")
