"""HTTP plumbing shared by the media routes: path prefixes, upload bodies, and the
headers that make serving user-supplied files safe."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from ranvier.errors import MatrixError
from ranvier.services.media import MediaContent

#: The deprecated unauthenticated endpoints, and upload, which has not moved yet.
#: Synapse still answers r0 too, which older clients call.
LEGACY_MEDIA = ("/_matrix/media/v3", "/_matrix/media/r0")
#: POST /create was added under v1.
MEDIA_V1 = ("/_matrix/media/v1",)

#: Content types served with `Content-Disposition: inline` (client-server API,
#: "Serving inline content"); everything else, HTML and SVG included, is an attachment.
INLINE_CONTENT_TYPES = frozenset({
    "text/css", "text/plain", "text/csv", "application/json", "application/ld+json",
    "image/jpeg", "image/gif", "image/png", "image/apng", "image/webp", "image/avif",
    "video/mp4", "video/webm", "video/ogg", "video/quicktime",
    "audio/mp4", "audio/webm", "audio/aac", "audio/mpeg", "audio/ogg", "audio/wave",
    "audio/wav", "audio/x-wav", "audio/x-pn-wav", "audio/flac", "audio/x-flac",
})

#: Whatever a file holds, a browser opening it runs nothing (the spec's recommended
#: policy), and does not second-guess its type.
_SAFETY_HEADERS = {
    "Content-Security-Policy": (
        "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf;"
        " style-src 'unsafe-inline'; object-src 'self';"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "cross-origin",
    # Media never changes once uploaded; it may be private, so only the client caches.
    "Cache-Control": "private, max-age=86400",
}
#: RFC 5987 attr-char, less the ALPHA / DIGIT that quote() keeps anyway.
_ATTR_CHARS = "!#$&+-.^_`|~"


def _filename_parameter(filename: str) -> str:
    """RFC 6266: a plain quoted filename when it is printable ASCII without quotes or
    backslashes; otherwise the UTF-8 percent-encoded `filename*` form."""
    if all(0x20 <= ord(c) < 0x7F for c in filename) and not any(c in filename for c in '"\\'):
        return f'filename="{filename}"'
    return "filename*=utf-8''" + quote(filename, safe=_ATTR_CHARS)


def content_disposition(content_type: str, filename: str | None) -> str:
    base = content_type.split(";")[0].strip().lower()
    disposition = "inline" if base in INLINE_CONTENT_TYPES else "attachment"
    return f"{disposition}; {_filename_parameter(filename)}" if filename else disposition


def media_response(content: MediaContent, filename: str | None) -> web.Response:
    return web.Response(
        body=content.data,
        headers={
            "Content-Type": content.content_type,
            "Content-Disposition": content_disposition(content.content_type, filename),
            **_SAFETY_HEADERS,
        },
    )


async def read_upload(request: web.Request, limit: int) -> bytes:
    """The raw request body, refused with 413 M_TOO_LARGE as soon as it passes `limit`
    (read as a stream: the app-wide JSON body limit does not apply to uploads)."""
    too_large = MatrixError(413, "M_TOO_LARGE", f"Upload is larger than {limit} bytes")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.content.iter_chunked(65536):
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)
