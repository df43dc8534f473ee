"""YAML that remembers where things came from, and errors that say `file:line`.

Scenario files, profiles and the catalog are written by people. When one is wrong, the message
must name the file and line and say what to change, so every mapping and list loaded here keeps
the line of each of its entries, and schema errors are turned into `file:line: what` messages.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema
import yaml


def display_path(path: Path | str) -> str:
    """A path as people want to read it: relative to the working directory when inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class DataFileError(Exception):
    """A human-written data file is wrong; the message names the file and line."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        shown = display_path(self.path)
        where = f"{shown}:{self.line}" if self.line else shown
        return f"{where}: {self.message}"


class YamlMap(dict[str, Any]):
    """A mapping that knows its own line and each key's line (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class YamlList(list[Any]):
    """A list that knows its own line and each item's line (1-based)."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


# libyaml's parser (in PyYAML's wheels) when there is one: a suite run loads every scenario file,
# and a child run per mutant pays for it again; its nodes carry the same marks (lines).
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeLoader):  # type: ignore[misc,valid-type]
    pass


def safe_load(text: str) -> Any:
    """`yaml.safe_load` with libyaml's parser when there is one (the contract is 500 KB)."""
    return yaml.load(text, Loader=_SafeLoader)


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> YamlMap:
    loader.flatten_mapping(node)
    mapping = YamlMap()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)  # YAML allows `1: x`; every key the suite reads is a string
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> YamlList:
    items = YamlList(loader.construct_object(child, deep=True) for child in node.value)
    items.line = node.start_mark.line + 1
    items.item_lines = [child.start_mark.line + 1 for child in node.value]
    return items


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(path: Path) -> Any:
    """Parse a YAML file into YamlMap/YamlList values; syntax errors become DataFileError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataFileError(path, None, f"cannot read the file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise DataFileError(path, None, "the file is not UTF-8 text") from None
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at_end = exc.problem_mark is not None and exc.problem_mark.index >= len(text.rstrip())
        if exc.context_mark and (at_end or "stream end" in (exc.problem or "")):
            mark = exc.context_mark  # an unclosed bracket: point at where it was opened
        line = mark.line + 1 if mark else None
        problem = " ".join(part for part in (exc.context, exc.problem) if part)
        raise DataFileError(path, line, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise DataFileError(path, None, f"invalid YAML: {exc}") from None


def line_at(document: Any, location: Iterable[str | int]) -> int | None:
    """The line of the deepest node along `location` that the document knows."""
    node = document
    line = getattr(node, "line", None)
    for part in location:
        in_map = isinstance(node, YamlMap) and isinstance(part, str) and part in node
        in_list = isinstance(node, YamlList) and isinstance(part, int) and part < len(node)
        if in_map or in_list:
            line = node.line_of(part)
            node = node[part]
        else:
            break
    return line


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name `name` was most likely meant to be, if one is close enough: the one rule
    behind every "did you mean" (data files, scenario names, command-line choices)."""
    found = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return found[0] if found else None


def _suggestions(error: jsonschema.ValidationError) -> str:
    """`'bodyy': did you mean 'body'?` for each unexpected key with a close allowed one."""
    allowed = (
        list((error.schema or {}).get("properties", {})) if isinstance(error.schema, dict) else []
    )
    unexpected = (
        [k for k in error.instance if k not in allowed] if isinstance(error.instance, dict) else []
    )
    hints = []
    for key in unexpected:
        close = closest(str(key), allowed)
        if close:
            hints.append(f"{key!r}: did you mean {close!r}?")
    return " ".join(hints)


def _describe(error: jsonschema.ValidationError, schema_path: Path | None = None) -> str:
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    where = where.lstrip(".") or "(top level)"
    if error.validator == "additionalProperties":
        hint = _suggestions(error)
        schema = f": {_schema_hint(schema_path)}" if schema_path else ""
        return (
            f"{where}: {error.message}"
            + (f"; {hint}" if hint else "")
            + f" (check the spelling; the allowed keys are in the schema{schema})"
        )
    if error.validator == "required" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        unexpected = [str(k) for k in error.instance if k not in allowed]
        required = error.validator_value if isinstance(error.validator_value, list) else []
        for missing in (str(k) for k in required if k not in error.instance):
            close = closest(missing, unexpected)
            if close:
                return f"{where}: {close!r}: did you mean {missing!r}? ({error.message})"
    if error.validator in ("oneOf", "anyOf") and error.context:
        best = jsonschema.exceptions.best_match(error.context)
        return f"{where}: {best.message}"
    return f"{where}: {error.message}"


def _schema_hint(schema_path: Path) -> str:
    from .show import schema_hint  # show reads data files through this module

    return schema_hint(schema_path)


def validate_document(path: Path, document: Any, schema_path: Path) -> None:
    """Check a loaded document against its JSON Schema; the first error names file and line."""
    errors = document_errors(path, document, schema_path)
    if errors:
        raise next(iter(errors.values()))


def document_errors(
    path: Path, document: Any, schema_path: Path, items_key: str | None = None
) -> dict[int | None, DataFileError]:
    """A document's schema errors, the most telling one per place, each with file and line.

    With `items_key`, an error inside the list under that key is filed under the item's index
    (so a caller can keep the items that are valid); any other error is filed under None.
    """
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    grouped: dict[int | None, list[jsonschema.ValidationError]] = {}
    for error in validator.iter_errors(document):
        where = list(error.absolute_path)
        index = where[1] if items_key and len(where) > 1 and where[0] == items_key else None
        grouped.setdefault(index if isinstance(index, int) else None, []).append(error)
    found: dict[int | None, DataFileError] = {}
    for index in sorted(grouped, key=lambda i: -1 if i is None else i):
        errors = sorted(grouped[index], key=lambda e: list(map(str, e.absolute_path)))
        error = jsonschema.exceptions.best_match(errors)
        found[index] = DataFileError(
            path, line_at(document, error.absolute_path), _describe(error, schema_path)
        )
    return found
