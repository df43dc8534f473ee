"""The requirement catalog (`contracts/requirements.yaml`): IDs, levels, areas and texts.

It is the single source of truth: scenarios name requirement IDs, and everything shown about a
requirement (its level, area, text) is looked up here.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Literal

from . import _resources
from ._yamlfile import DataFileError, load_yaml, validate_document

Level = Literal["MUST", "SHOULD", "MAY"]
LEVELS: tuple[Level, ...] = ("MUST", "SHOULD", "MAY")  # most serious first
LEVEL_RANK: dict[Level, int] = {level: rank for rank, level in enumerate(LEVELS)}


def worst_level(levels: Iterable[Level]) -> Level:
    """The most serious of these levels."""
    return min(levels, key=LEVEL_RANK.__getitem__)


def blocks_run(failed_levels: Iterable[Level], fail_on_should: bool) -> bool:
    """Whether failures at these levels fail the run: a MUST always, a SHOULD only with
    `--fail-on-should`, a MAY never (the product spec's exit rule)."""
    failed = set(failed_levels)
    return "MUST" in failed or (fail_on_should and "SHOULD" in failed)


@dataclass(frozen=True)
class Requirement:
    id: str
    level: Level
    area: str
    text: str
    source: str
    area_title: str

    @property
    def title(self) -> str:
        """The requirement's text, which is one sentence short enough to serve as its title."""
        return self.text


class Catalog:
    """The requirements by ID, in catalog order."""

    def __init__(
        self, requirements: list[Requirement], path: Path | None = None, headline: str = ""
    ) -> None:
        self._by_id = {requirement.id: requirement for requirement in requirements}
        self.path = path
        self.headline = headline  # the area summaries put first among failures

    @classmethod
    def load(cls, path: Path = _resources.CATALOG_PATH) -> Catalog:
        document = load_yaml(path)
        validate_document(path, document, _resources.CATALOG_SCHEMA_PATH)
        areas = dict(document["areas"])
        requirements: list[Requirement] = []
        seen: set[str] = set()
        for index, row in enumerate(document["requirements"]):
            line = document["requirements"].line_of(index)
            if row["id"] in seen:
                raise DataFileError(path, line, f"requirement {row['id']} is listed twice")
            if row["area"] not in areas:
                raise DataFileError(path, line, f"area {row['area']!r} is not in `areas`")
            if not row["id"].startswith(row["area"] + "-"):
                raise DataFileError(
                    path, line, f"{row['id']} does not belong to area {row['area']}"
                )
            seen.add(row["id"])
            requirements.append(
                Requirement(
                    id=row["id"],
                    level=row["level"],
                    area=row["area"],
                    text=" ".join(row["text"].split()),
                    source=" ".join(row["source"].split()),
                    area_title=areas[row["area"]],
                )
            )
        headline = str(document.get("headline", ""))
        if headline and headline not in areas:
            raise DataFileError(
                path, document.line_of("headline"), f"headline {headline!r} is not in `areas`"
            )
        return cls(requirements, path, headline)

    def __iter__(self) -> Iterator[Requirement]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, requirement_id: object) -> bool:
        return requirement_id in self._by_id

    def __getitem__(self, requirement_id: str) -> Requirement:
        return self._by_id[requirement_id]

    @property
    def ids(self) -> list[str]:
        return list(self._by_id)

    def html(self) -> str:
        """The catalog as one HTML page with an anchor per requirement (`#CURL-001`), so that
        reports can link each requirement wherever they are opened."""
        rows = []
        area = None
        for requirement in self:
            if requirement.area != area:
                area = requirement.area
                rows.append(f"<h2 id='{area}'>{escape(requirement.area_title)} ({area})</h2>")
            rows.append(
                f"<section id='{requirement.id}'><h3>{requirement.id}"
                f" <small>{requirement.level}</small></h3><p>{escape(requirement.text)}</p>"
                f"<p class='source'>Source: {escape(requirement.source)}</p></section>"
            )
        return (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<title>POST /checkouts requirements</title><style>"
            "body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
            "small{color:#555;font-weight:normal}.source{color:#555;font-size:.9em}"
            "section:target{background:#fff3c4}</style></head><body>"
            f"<h1>POST /checkouts requirements ({len(self)})</h1>"
            + "".join(rows)
            + "</body></html>\n"
        )

    def sha256(self) -> str:
        if self.path is None:
            raise ValueError("an in-memory catalog has no file to hash")
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


@functools.cache
def load_catalog(path: Path = _resources.CATALOG_PATH) -> Catalog:
    """The process-wide catalog, parsed and checked once."""
    return Catalog.load(path)
