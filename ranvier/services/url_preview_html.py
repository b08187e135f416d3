"""OpenGraph data from an HTML page, for URL previews (pure; stdlib html.parser).

`og:*` meta tags win; a page without them falls back to its <title> and its
`description` meta tag, as Synapse and browsers' link previews do.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin

#: Values longer than this are cut: previews are shown in a line or two.
MAX_VALUE_LENGTH = 1000
_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_:.-]+)""", re.I)


class _OpenGraphParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.og: dict[str, str] = {}
        self.description: str | None = None
        self.title: str | None = None
        self._title_parts: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and self.title is None:
            self._title_parts = []
        elif tag == "meta":
            attributes = {k: v for k, v in attrs if v is not None}
            # og: tags use `property`, but many sites write `name`.
            key = attributes.get("property") or attributes.get("name") or ""
            content = attributes.get("content")
            if content is None:
                return
            if key.startswith("og:"):
                self.og.setdefault(key, content.strip()[:MAX_VALUE_LENGTH])
            elif key.lower() == "description" and self.description is None:
                self.description = content.strip()[:MAX_VALUE_LENGTH]

    def handle_data(self, data: str) -> None:
        if self._title_parts is not None:
            self._title_parts.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._title_parts is not None:
            self.title = " ".join("".join(self._title_parts).split())[:MAX_VALUE_LENGTH]
            self._title_parts = None


def decode_html(body: bytes, content_type_charset: str | None) -> str:
    """The page as text: the HTTP charset, else a <meta charset>, else UTF-8."""
    head_charset = _CHARSET_RE.search(body[:4096])
    for charset in (content_type_charset, head_charset and head_charset[1].decode()):
        if charset:
            try:
                return body.decode(charset, errors="replace")
            except LookupError:
                continue
    return body.decode("utf-8", errors="replace")


def parse_open_graph(html: str, page_url: str) -> dict[str, str]:
    """The page's OpenGraph properties; `og:image` made absolute against `page_url`."""
    parser = _OpenGraphParser()
    parser.feed(html)
    parser.close()
    og = dict(parser.og)
    if "og:title" not in og and parser.title:
        og["og:title"] = parser.title
    if "og:description" not in og and parser.description:
        og["og:description"] = parser.description
    if "og:image" in og:
        og["og:image"] = urljoin(page_url, og["og:image"])
    return og
