"""`${...}` variables in scenario values.

Namespaces: `${profile.KEY}` (the target profile; a missing key makes the item *not tested*),
`${api_key}` (the secret, only where a scenario must place the key itself), `${captured.NAME}`
(a value captured by an earlier step) and bare `${NAME}` / `${NAME.FIELD}` for expansion
variables. A string that is exactly one reference takes the referenced value with its JSON type;
otherwise references are interpolated as text. Filters: `|base64`, `|urlencode`, and the
key's look-alikes `|changedlast`, `|prefix`, `|swapcase`, `|otherenv` (see `redact.py`).
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..redact import LOOK_ALIKES, Secret

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.]*)(?:\|([a-z0-9]+))?\}")
FILTERS: dict[str, Callable[[str], str]] = {
    "base64": lambda text: base64.b64encode(text.encode()).decode(),
    "urlencode": lambda text: urllib.parse.quote(text, safe=""),
    **LOOK_ALIKES,  # ${api_key|changedlast}, |prefix, |swapcase, |otherenv (redacted too)
}


class MissingProfileValue(Exception):
    """The profile lacks a value the scenario needs: the item is not tested."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(key)


class TemplateError(Exception):
    """A reference that cannot be resolved (a typo in a scenario); the message says which."""


@dataclass
class Context:
    profile: Mapping[str, str]
    api_key: Secret | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    captured: dict[str, Any] = field(default_factory=dict)

    def lookup(self, name: str) -> Any:
        head, _, rest = name.partition(".")
        if head == "profile":
            if rest not in self.profile:
                raise MissingProfileValue(rest)
            return self.profile[rest]
        if head == "api_key" and not rest:
            if self.api_key is None:
                raise TemplateError("${api_key} is not available here")
            return self.api_key.reveal()
        if head == "captured":
            if rest not in self.captured:
                raise TemplateError(f"nothing was captured as {rest!r} by an earlier step")
            return self.captured[rest]
        if head not in self.variables:
            raise TemplateError(f"unknown variable ${{{name}}}")
        value = self.variables[head]
        for part in rest.split(".") if rest else []:
            if not isinstance(value, Mapping) or part not in value:
                raise TemplateError(f"${{{name}}}: no field {part!r}")
            value = value[part]
        return value


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def render(value: Any, context: Context) -> Any:
    """Resolve every reference inside a JSON-like value (mapping keys included)."""
    if isinstance(value, str):
        whole = REFERENCE.fullmatch(value)
        if whole:
            resolved = context.lookup(whole.group(1))
            return FILTERS[whole.group(2)](_as_text(resolved)) if whole.group(2) else resolved

        def substitute(match: re.Match[str]) -> str:
            text = _as_text(context.lookup(match.group(1)))
            return FILTERS[match.group(2)](text) if match.group(2) else text

        return REFERENCE.sub(substitute, value)
    if isinstance(value, Mapping):
        return {render(k, context): render(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, context) for v in value]
    return value


def references(value: Any) -> Iterator[tuple[str, str | None]]:
    """Every `(name, filter)` referenced inside a value, for checks at collection time."""
    if isinstance(value, str):
        for match in REFERENCE.finditer(value):
            yield match.group(1), match.group(2)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from references(k)
            yield from references(v)
    elif isinstance(value, list):
        for v in value:
            yield from references(v)
