"""A scenario step's request: the rendered spec, the named body with its edits, the key where the
step puts it (a valid bearer token, another scheme, a query parameter, a header, a cookie)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import httpx

from .. import __version__
from ..redact import Secret
from ..transport import FRAMINGS, PreparedRequest, encode_body
from ._bodies import BodyError, apply_edits
from ._model import RequestSpec


def prepare(
    spec: RequestSpec,
    rendered: Mapping[str, Any],
    body_base: Any,
    base_url: str,
    api_key: Secret,
) -> PreparedRequest:
    """Build the request a step sends. `rendered` is the step's request with variables resolved."""
    url = base_url.rstrip("/") + str(rendered.get("path", spec.path))
    query = dict(rendered.get("query") or {})
    headers: dict[str, str | None] = {
        "Accept": "application/json",
        "User-Agent": f"checkout-conformance/{__version__}",
    }
    body: bytes | None = None
    if spec.raw is not None:
        raw = rendered["raw"]
        if isinstance(raw, Mapping) and "base64" in raw:  # bytes that are not UTF-8
            body = base64.b64decode(str(raw["base64"]))
        else:
            body = str(raw).encode("utf-8", errors="surrogatepass")
    elif spec.body is not None:
        body_spec = rendered["body"]
        value = body_base if isinstance(body_spec, str) else apply_edits(body_base, body_spec)
        body = encode_body(value)
    if body is not None:
        headers["Content-Type"] = rendered.get("content_type") or "application/json"

    auth = rendered.get("auth", "valid")
    key = api_key.reveal()
    if auth == "valid":
        headers["Authorization"] = f"Bearer {key}"
    elif isinstance(auth, Mapping):
        if "authorization" in auth:
            headers["Authorization"] = str(auth["authorization"])
        elif "query" in auth:
            query[str(auth["query"])] = key
        elif "header" in auth:
            headers[str(auth["header"])] = key
        elif "cookie" in auth:
            headers["Cookie"] = f"{auth['cookie']}={key}"
    for name, value in (rendered.get("headers") or {}).items():
        existing = next((k for k in headers if k.lower() == str(name).lower()), None)
        if existing is not None:
            del headers[existing]
        if value is not None:
            headers[str(name)] = str(value)
    if query:
        url += ("&" if "?" in url else "?") + str(httpx.QueryParams(query))
    framing = rendered.get("framing")
    if framing in (None, "content-length"):  # the ordinary framing: httpx sends it
        framing = None
    elif framing not in FRAMINGS:
        raise BodyError(
            f"unknown framing {framing!r}: one of content-length, {', '.join(sorted(FRAMINGS))}"
        )
    return PreparedRequest(
        method=str(rendered.get("method", spec.method)).upper(),
        url=url,
        headers=[(name, value) for name, value in headers.items() if value is not None],
        body=body,
        framing=framing,
    )
