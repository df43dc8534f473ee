"""Request bodies: the named bodies of `fixtures/bodies.yaml` and the edits scenarios make.

A body is built by starting from a named body (or a literal value), deep-merging `merge`, setting
`set` paths, deleting `remove` paths and optionally padding it to a size. Named bodies may build
on each other the same way. Paths are dotted with list indexes: `product_cart[0].quantity`.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._yamlfile import DataFileError, YamlMap, load_yaml

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
PADDING_FIELD = "x_conformance_padding"


class BodyError(Exception):
    """A body edit that cannot be applied (a path into nothing); a scenario mistake."""


def parse_path(path: str) -> list[str | int]:
    """`a.b[0].c` → ['a', 'b', 0, 'c']; a leading `$.` is allowed."""
    text = path[2:] if path.startswith("$.") else "" if path == "$" else path
    tokens: list[str | int] = []
    position = 0
    while position < len(text):
        if text[position] == ".":
            position += 1
            continue
        match = _TOKEN.match(text, position)
        if not match:
            raise BodyError(f"cannot parse path {path!r} at {text[position:]!r}")
        tokens.append(int(match.group(2)) if match.group(2) is not None else match.group(1))
        position = match.end()
    return tokens


def get_path(value: Any, path: str) -> tuple[bool, Any]:
    """(found, value) at `path`; `$` is the whole value."""
    node = value
    for token in parse_path(path):
        if isinstance(token, int):
            if not isinstance(node, list) or token >= len(node):
                return False, None
        elif not isinstance(node, dict) or token not in node:
            return False, None
        node = node[token]
    return True, node


def set_path(value: Any, path: str, new: Any) -> None:
    tokens = parse_path(path)
    if not tokens:
        raise BodyError("cannot set the whole body with `set`; use `value`")
    node = value
    for token, following in itertools.pairwise(tokens):
        if isinstance(token, int):
            if not isinstance(node, list) or token >= len(node):
                raise BodyError(f"set {path}: no list item [{token}]")
            node = node[token]
        else:
            if not isinstance(node, dict):
                raise BodyError(f"set {path}: {token!r} is not inside an object")
            if not isinstance(node.get(token), dict | list):
                node[token] = [] if isinstance(following, int) else {}
            node = node[token]
    last = tokens[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last > len(node):
            raise BodyError(f"set {path}: no list item [{last}]")
        if last == len(node):
            node.append(new)
        else:
            node[last] = new
    elif isinstance(node, dict):
        node[last] = new
    else:
        raise BodyError(f"set {path}: the parent is not an object")


def remove_path(value: Any, path: str) -> None:
    tokens = parse_path(path)
    parent_path = tokens[:-1]
    node = value
    for token in parent_path:
        try:
            node = node[token]
        except (KeyError, IndexError, TypeError):
            raise BodyError(f"remove {path}: there is nothing at that path") from None
    try:
        del node[tokens[-1]]
    except (KeyError, IndexError, TypeError):
        raise BodyError(f"remove {path}: there is nothing at that path") from None


def deep_merge(base: Any, update: Any) -> Any:
    if isinstance(base, dict) and isinstance(update, Mapping):
        merged = dict(base)
        for key, value in update.items():
            merged[key] = deep_merge(base.get(key), value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(update)


def apply_edits(base: Any, spec: Mapping[str, Any]) -> Any:
    """Apply merge/set/remove/padding_bytes from an (already rendered) body spec to `base`."""
    body = copy.deepcopy(base)
    if "merge" in spec:
        body = deep_merge(body, spec["merge"])
    for path, value in (spec.get("set") or {}).items():
        set_path(body, str(path), copy.deepcopy(value))
    for path in spec.get("remove") or []:
        remove_path(body, str(path))
    if spec.get("padding_bytes"):
        if not isinstance(body, dict):
            raise BodyError("padding_bytes needs an object body")
        body[PADDING_FIELD] = "x" * int(spec["padding_bytes"])
    return body


@dataclass(frozen=True)
class BodyLibrary:
    """The named bodies, unrendered (their `${profile.*}` references resolve per target)."""

    specs: dict[str, Mapping[str, Any]]
    path: Path | None = None
    _built: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def load(cls, path: Path) -> BodyLibrary:
        document = load_yaml(path)
        if not isinstance(document, YamlMap) or not isinstance(document.get("bodies"), YamlMap):
            raise DataFileError(path, 1, "expected a top-level `bodies:` mapping of named bodies")
        bodies: YamlMap = document["bodies"]
        for name, spec in bodies.items():
            if not isinstance(spec, dict) or ("value" in spec) == ("from" in spec):
                raise DataFileError(
                    path,
                    bodies.line_of(name),
                    f"body {name!r} needs exactly one of `value` or `from`",
                )
            if "from" in spec and spec["from"] not in bodies:
                raise DataFileError(
                    path,
                    bodies.line_of(name),
                    f"body {name!r} builds on unknown body {spec['from']!r}",
                )
        library = cls(dict(bodies), path)
        for name in bodies:
            library.unrendered(name)  # cycles fail here, at load time
        return library

    def __contains__(self, name: object) -> bool:
        return name in self.specs

    def unrendered(self, name: str, _seen: tuple[str, ...] = ()) -> Any:
        """The named body with its edits applied, still holding `${...}` references.

        Built once per name and shared: callers render it (which copies) and never mutate it.
        """
        cached = self._built.get(name)
        if cached is not None:
            return cached
        if name in _seen:
            raise BodyError(
                f"bodies build on each other in a circle: {' -> '.join((*_seen, name))}"
            )
        spec = self.specs[name]
        base = self.unrendered(spec["from"], (*_seen, name)) if "from" in spec else spec["value"]
        built = apply_edits(base, spec)
        self._built[name] = built
        return built
