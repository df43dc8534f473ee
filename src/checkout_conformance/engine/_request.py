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
    auth = rendered.get("auth", "valid")
    key = api_key.reveal()
    place = auth if isinstance(auth, Mapping) else {}
    sent = str(place.get("value", key))  # what goes in that place: the bare key by default
    value: Any = None
    if spec.raw is None and spec.body is not None:
        body_spec = rendered["body"]
        value = body_base if isinstance(body_spec, str) else apply_edits(body_base, body_spec)
    if "json" in place:  # the key as a field of the JSON body (added to an object body)
        value = (
            {**value, str(place["json"]): sent}
            if isinstance(value, Mapping)
            else {str(place["json"]): sent}
        )
    if "form" in place:  # RFC 6750 §2.2: the key as a form-encoded body parameter
        body = str(httpx.QueryParams({str(place["form"]): sent})).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif value is not None:
        body = encode_body(value)
    if body is not None and "Content-Type" not in headers:
        headers["Content-Type"] = rendered.get("content_type") or "application/json"

    if auth == "valid":
        headers["Authorization"] = f"Bearer {key}"
    elif "authorization" in place:
        headers["Authorization"] = str(place["authorization"])
    elif "query" in place:
        query[str(place["query"])] = sent
    elif "header" in place:
        headers[str(place["header"])] = sent
    elif "cookie" in place:
        headers["Cookie"] = f"{place['cookie']}={sent}"
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
