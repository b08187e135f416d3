"""Bundle the spec's client-server OpenAPI files into one self-contained JSON document.

    .venv/bin/python tests/schemas/bundle.py [SPEC_DIR]   # default: ../shared/matrix-spec

The spec's API is split over ~70 YAML files whose `$ref`s point into `definitions/`,
`../../event-schemas/` and other APIs' folders. Tests must not depend on the spec being
beside the checkout, so this script inlines every reference, prefixes each file's paths
with its `servers` basePath (e.g. `/_matrix/client/v3`) and writes the result to
tests/schemas/client_server.json, which is committed. The few recursive schemas (a
reference reached again while it is being inlined) become `#/components/schemas/...`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "client_server.json"
DEFAULT_SPEC = HERE.parents[2] / "shared" / "matrix-spec"

RefKey = tuple[Path, str]


class Bundler:
    def __init__(self) -> None:
        self._files: dict[Path, Any] = {}
        self._done: dict[RefKey, Any] = {}
        self._in_progress: list[RefKey] = []
        #: References found to be recursive -> their component name.
        self._recursive: dict[RefKey, str] = {}
        self.components: dict[str, Any] = {}

    def load(self, path: Path) -> Any:
        if path not in self._files:
            self._files[path] = yaml.safe_load(path.read_text())
        return self._files[path]

    def inline(self, node: Any, base: Path) -> Any:
        """`node` (from file `base`) with every `$ref` replaced by what it points to."""
        if isinstance(node, list):
            return [self.inline(item, base) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            resolved = self._resolve_ref(node["$ref"], base)
            siblings = {k: self.inline(v, base) for k, v in node.items() if k != "$ref"}
            # OpenAPI 3.1 applies keywords beside a $ref too (usually a description).
            return {**resolved, **siblings} if siblings else resolved
        return {key: self.inline(value, base) for key, value in node.items()}

    def _resolve_ref(self, ref: str, base: Path) -> Any:
        file_part, _, pointer = ref.strip().partition("#")
        target = (base.parent / file_part).resolve() if file_part else base
        key = (target, pointer)
        if key in self._done:
            return self._done[key]
        if key in self._in_progress:
            name = self._recursive.setdefault(key, self._component_name(key))
            return {"$ref": f"#/components/schemas/{name}"}
        self._in_progress.append(key)
        try:
            result = self.inline(_walk(self.load(target), pointer), target)
        finally:
            self._in_progress.pop()
        if key in self._recursive:
            name = self._recursive[key]
            self.components[name] = result
            result = {"$ref": f"#/components/schemas/{name}"}
        self._done[key] = result
        return result

    def _component_name(self, key: RefKey) -> str:
        path, pointer = key
        stem = path.stem + (pointer.replace("/", "_") if pointer else "")
        name, n = stem, 1
        while name in self.components or name in self._recursive.values():
            n += 1
            name = f"{stem}_{n}"
        return name


def _walk(document: Any, pointer: str) -> Any:
    for part in filter(None, pointer.split("/")):
        document = document[part.replace("~1", "/").replace("~0", "~")]
    return document


def _base_path(api: dict[str, Any]) -> str:
    return api["servers"][0]["variables"]["basePath"]["default"]


def bundle(spec_dir: Path) -> dict[str, Any]:
    api_dir = spec_dir / "data" / "api" / "client-server"
    bundler = Bundler()
    paths: dict[str, Any] = {}
    security: dict[str, Any] = {}
    for path in sorted(api_dir.glob("*.yaml")):
        api = bundler.load(path.resolve())
        prefix = _base_path(api)
        for template, operations in (api.get("paths") or {}).items():
            # A path may be split over files by method (GET in one, PUT in another).
            merged = paths.setdefault(prefix + template, {})
            for method, operation in operations.items():
                if method in merged:
                    raise SystemExit(f"{method} {prefix}{template} is defined twice")
                merged[method] = bundler.inline(operation, path.resolve())
        schemes = (api.get("components") or {}).get("securitySchemes") or {}
        security.update(bundler.inline(schemes, path.resolve()))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Matrix Client-Server API (bundled by tests/schemas/bundle.py)",
            "version": _spec_version(spec_dir),
        },
        "paths": paths,
        "components": {"securitySchemes": security, "schemas": bundler.components},
    }


def _spec_version(spec_dir: Path) -> str:
    source = spec_dir / "SOURCE.md"
    if source.exists():
        first = source.read_text().splitlines()[0]
        return first.rsplit(" ", 1)[-1]  # "# The Matrix specification, v1.19"
    return "unknown"


def render(document: dict[str, Any]) -> str:
    """The committed text (YAML's integer status keys become JSON strings here)."""
    return json.dumps(document, indent=1, sort_keys=True) + "\n"


def main() -> None:
    spec_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SPEC
    document = bundle(spec_dir.resolve())
    OUTPUT.write_text(render(document))
    print(f"Wrote {OUTPUT} ({len(document['paths'])} paths, spec {document['info']['version']})")


if __name__ == "__main__":
    main()
