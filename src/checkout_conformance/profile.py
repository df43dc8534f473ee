"""Target profiles: the ids that exist on the implementation under test.

A profile is a small YAML file (format in the product spec; JSON Schema in
`contracts/profile.schema.json`). A scenario that needs an id the profile lacks is *not tested*,
never failed. The API key is never part of a profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from . import _resources
from ._yamlfile import load_yaml, validate_document

Kind = Literal["mock", "sandbox", "live"]


@dataclass(frozen=True)
class Profile:
    name: str
    kind: Kind
    data: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    description: str = ""

    @classmethod
    def load(cls, path: Path) -> Profile:
        """Read and check a profile; a bad one raises DataFileError naming file and line."""
        document = load_yaml(path)
        validate_document(path, document, _resources.PROFILE_SCHEMA_PATH)
        return cls(
            name=document["name"],
            kind=document["kind"],
            data=dict(document["data"]),
            path=path,
            description=document.get("description", ""),
        )

    def get(self, key: str) -> str | None:
        return self.data.get(key)


def reference_profile() -> Profile:
    """The profile of the bundled reference server."""
    return Profile.load(_resources.REFERENCE_PROFILE_PATH)
