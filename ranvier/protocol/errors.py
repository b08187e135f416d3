"""Exceptions raised by the protocol core. Callers outside it translate them into
client-visible `MatrixError`s or federation rejections."""


class ProtocolError(Exception):
    """Base class: something in a piece of Matrix data breaks a rule of the spec."""


class InvalidJson(ProtocolError):
    """The JSON is not acceptable (e.g. a float or an out-of-range integer in v6+)."""


class InvalidIdentifier(ProtocolError):
    """A user ID, room ID, event ID, alias or server name breaks its grammar."""


class InvalidEvent(ProtocolError):
    """An event is malformed: missing fields, wrong types, over the size limits."""


class SignatureError(ProtocolError):
    """A signature is missing or does not verify."""


class HashError(ProtocolError):
    """An event's content hash does not match its content."""


class AuthError(ProtocolError):
    """An event is not allowed by the authorization rules of its room version."""
