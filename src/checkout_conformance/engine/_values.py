"""The value classes of `fixtures/values.yaml`: what real customers send, and look-alikes.

Scenarios use them as an expansion, `{corpus: valid.customer_name}`: one case per class, with
`${VAR.value}` the value and `${VAR.label}` its name, so that a refusal names the class that was
refused. The file is generated (`checkout-conformance values build`); see `_values_build.py` for
where each class comes from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._yamlfile import DataFileError, load_yaml


@dataclass(frozen=True)
class ValueClasses:
    """Lists of `{label, value, source, ...}` by dotted name (`valid.tax_id`)."""

    lists: Mapping[str, list[dict[str, Any]]]
    path: Path | None = None

    @classmethod
    def load(cls, path: Path) -> ValueClasses:
        document = load_yaml(path)
        if not isinstance(document, Mapping):
            raise DataFileError(path, 1, "expected the mappings `valid:` and `look_alikes:`")
        lists: dict[str, list[dict[str, Any]]] = {}
        for group, classes in document.items():
            if not isinstance(classes, Mapping):
                raise DataFileError(path, 1, f"{group}: expected a mapping of lists")
            for name, entries in classes.items():
                if not isinstance(entries, list) or not all(
                    isinstance(entry, Mapping) and "label" in entry and "value" in entry
                    for entry in entries
                ):
                    raise DataFileError(
                        path, 1, f"{group}.{name}: expected a list of {{label, value, source}}"
                    )
                lists[f"{group}.{name}"] = [dict(entry) for entry in entries]
        return cls(lists, path)

    def __contains__(self, name: object) -> bool:
        return name in self.lists

    def __getitem__(self, name: str) -> list[dict[str, Any]]:
        return self.lists[name]
