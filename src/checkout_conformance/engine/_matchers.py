"""Expectations checked against an exchange, with messages that say what was expected and what came.

Every check returns None or a `Mismatch`: where (status, a header, a JSON path), what was expected
and what was there, attributed to one requirement. All mismatches of a step are collected, not
just the first, so one run shows everything that is wrong with a response.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..contract import Contract, json_path
from ..transport import NOT_JSON, Exchange
from ._bodies import BodyError, get_path, parse_path
from ._model import Expectation

ABSENT = object()


@dataclass(frozen=True)
class Mismatch:
    requirement: str
    where: str  # "status", "header Content-Type", "$.checkout_url", "body"
    expected: str
    actual: str
    source: str  # file:line of the expectation

    def render(self) -> str:
        return f"{self.where}: expected {self.expected}, got {self.actual}"


def show(value: Any, limit: int = 200) -> str:
    if value is ABSENT:
        return "nothing (absent)"
    text = json.dumps(value, ensure_ascii=False) if value is not NOT_JSON else "(not JSON)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


NO_RESPONSE = "no-response"


def kind_allows_no_response(expectation: Expectation) -> bool:
    """`status: [4xx, no-response]`: closing the connection without an answer is right too
    (RFC 9112 §8, for a message that stops early)."""
    if expectation.kind != "status":
        return False
    spec = expectation.spec["status"]
    return NO_RESPONSE in (spec if isinstance(spec, list) else [spec])


def _status_allowed(spec: Any) -> tuple[Callable[[int], bool], str]:
    allowed = spec if isinstance(spec, list) else [spec]

    def one(item: Any) -> Callable[[int], bool]:
        if item == NO_RESPONSE:
            return lambda status: False
        if isinstance(item, str):
            low = int(item[0]) * 100
            return lambda status: low <= status < low + 100
        return lambda status: status == item

    tests = [one(item) for item in allowed]
    names = [str(item) for item in allowed]
    text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" or {names[-1]}"
    return (lambda status: any(test(status) for test in tests)), f"status {text}"


def _is_https_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parsed = urllib.parse.urlsplit(value)
    return parsed.scheme == "https" and bool(parsed.netloc)


PREDICATES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "present": (lambda v: v is not ABSENT, "present"),
    "absent": (lambda v: v is ABSENT, "absent"),
    "null": (lambda v: v is None, "null"),
    "not_null": (lambda v: v is not ABSENT and v is not None, "present and not null"),
    "null_or_absent": (lambda v: v is ABSENT or v is None, "null or absent"),
    "not_string": (lambda v: not isinstance(v, str), "not a string (null or absent)"),
    "string": (lambda v: isinstance(v, str), "a string"),
    "optional_string": (
        lambda v: v is ABSENT or v is None or isinstance(v, str),
        "a string, null or absent",
    ),
    "non_empty_string": (lambda v: isinstance(v, str) and v != "", "a non-empty string"),
    "integer": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "number": (lambda v: isinstance(v, int | float) and not isinstance(v, bool), "a number"),
    "boolean": (lambda v: isinstance(v, bool), "a boolean"),
    "object": (lambda v: isinstance(v, dict), "a JSON object"),
    "array": (lambda v: isinstance(v, list), "a JSON array"),
    "non_empty": (lambda v: v not in (ABSENT, None, "", [], {}), "non-empty"),
    "https_url": (_is_https_url, "an absolute https URL"),
    # Conditional on another requirement's check: only what that one does not judge.
    "https_url_if_string": (
        lambda v: not isinstance(v, str) or _is_https_url(v),
        "an absolute https URL (if a string)",
    ),
    "null_unless_string": (
        lambda v: v is None or isinstance(v, str),
        "present as null (a string is another requirement's failure)",
    ),
}
# Matchers a body that is not JSON meets: it holds no such field.
MET_BY_NO_JSON = frozenset({"absent", "null_or_absent", "not_string", "optional_string"})


def _value_matcher(spec: Mapping[str, Any], value: Any, contract: Contract) -> tuple[bool, str]:
    """(ok, expectation text) for the matcher in `spec` applied to `value`."""
    if "is" in spec:
        test, text = PREDICATES[spec["is"]]
        return test(value), text
    if "equals" in spec:
        return value == spec["equals"] and value is not ABSENT, f"{show(spec['equals'])}"
    if "not_equals" in spec:
        return value != spec["not_equals"], f"anything but {show(spec['not_equals'])}"
    if "matches" in spec:
        ok = isinstance(value, str) and re.search(spec["matches"], value) is not None
        return ok, f"a string matching /{spec['matches']}/"
    if "one_of" in spec:
        return value in spec["one_of"], f"one of {show(spec['one_of'])}"
    if "schema" in spec:
        if value is ABSENT or value is NOT_JSON:
            return False, f"a value valid against {spec['schema']}"
        if contract.is_valid(spec["schema"], value):
            return True, f"a value valid against {spec['schema']}"
        errors = contract.errors(spec["schema"], value, limit=3)
        return False, f"a value valid against {spec['schema']}" + (
            f" ({'; '.join(map(str, errors))})" if errors else ""
        )
    raise ValueError(f"no matcher in {dict(spec)}")


def applies(expectation: Expectation, exchange: Exchange) -> bool:
    """Whether a conditional expectation (`if_status`) is to be evaluated for this response."""
    if expectation.if_status is None or exchange.status is None:
        return True
    allowed, _text = _status_allowed(expectation.if_status)
    return allowed(exchange.status)


def check(expectation: Expectation, exchange: Exchange, contract: Contract) -> Mismatch | None:
    """None when the exchange meets the expectation, else what differs."""
    spec = expectation.spec
    requirement = expectation.requirement

    def mismatch(where: str, expected: str, actual: str) -> Mismatch:
        return Mismatch(requirement, where, expected, actual, expectation.where)

    if exchange.status is None:
        if kind_allows_no_response(expectation) and not exchange.timed_out:
            return None  # the connection closed without an answer, which this case allows
        return mismatch("response", "an HTTP response", f"none ({exchange.error})")
    body = exchange.json
    kind = expectation.kind

    if kind == "status":
        allowed, text = _status_allowed(spec["status"])
        if allowed(exchange.status):
            return None
        actual = str(exchange.status)
        if (
            300 <= exchange.status < 400
        ):  # never followed: a redirect from POST /checkouts is a failure
            actual += f" (redirect to {exchange.headers.get('location', 'nowhere')})"
        return mismatch("status", text, actual)

    if kind == "rejected":
        if not 400 <= exchange.status < 500:
            return mismatch("status", "a 4xx status (rejected)", str(exchange.status))
        if isinstance(body, dict) and body.get("session_id") is not None:
            return mismatch(
                "$.session_id", "no session for a rejected request", show(body["session_id"])
            )
        return None

    if kind == "body_excludes":
        needle = str(spec["body_excludes"])
        if needle and needle in exchange.text:
            return mismatch(
                "body", f"a body that does not contain {needle!r}", "a body containing it"
            )
        return None

    if kind == "header":
        name = str(spec["header"])
        value: Any = exchange.headers.get(name, ABSENT)
        ok, text = _value_matcher(spec, value, contract)
        return None if ok else mismatch(f"header {name}", text, show(value))

    # json and schema: a value in the body
    path = str(spec.get("json", "$"))
    if body is NOT_JSON and path not in ("$", "") and spec.get("is") in MET_BY_NO_JSON:
        return None
    if body is NOT_JSON:
        shown = exchange.text[:120] or "(empty body)"
        return mismatch(json_path_text(path), "a JSON body", f"{shown!r}")
    try:
        found, value = get_path(body, path)
    except BodyError as exc:
        return mismatch(path, "a valid path", str(exc))
    ok, text = _value_matcher(spec, value if found else ABSENT, contract)
    return None if ok else mismatch(json_path_text(path), text, show(value if found else ABSENT))


def json_path_text(path: str) -> str:
    if path in ("$", ""):
        return "$ (the body)"
    return json_path(parse_path(path))


def capture(exchange: Exchange, path: str) -> tuple[bool, Any]:
    body = exchange.json
    if body is NOT_JSON:
        return False, None
    return get_path(body, path)
