"""The requirement catalog: complete, well-formed, and the one source of IDs, levels and texts."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
import yaml

from checkout_conformance import _resources
from checkout_conformance._yamlfile import DataFileError
from checkout_conformance.catalog import Catalog, load_catalog


def test_catalog_validates_against_its_schema() -> None:
    schema = json.loads(_resources.CATALOG_SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(yaml.safe_load(_resources.CATALOG_PATH.read_text()), schema)


def test_catalog_has_every_area_and_level_of_the_spec() -> None:
    catalog = load_catalog()
    assert len(catalog) == 67
    areas = Counter(r.area for r in catalog)
    assert areas == {"AUTH": 10, "VAL": 15, "RULE": 16, "ACC": 11, "RESP": 6, "CURL": 4, "ROB": 5}
    assert Counter(r.level for r in catalog) == {"MUST": 42, "SHOULD": 24, "MAY": 1}
    assert catalog["CURL-001"].level == "MUST"
    assert "payment_method_id" in catalog["CURL-001"].text


def test_ids_are_numbered_without_gaps_within_each_area() -> None:
    by_area: dict[str, list[int]] = {}
    for requirement in load_catalog():
        by_area.setdefault(requirement.area, []).append(int(requirement.id.split("-")[1]))
    for area, numbers in by_area.items():
        assert numbers == list(range(1, len(numbers) + 1)), area


def _write_catalog(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "requirements.yaml"
    path.write_text(
        "catalog_version: 1\nlevels: {MUST: a, SHOULD: b, MAY: c}\nareas: {AUTH: Authentication}\n"
        "requirements:\n" + rows
    )
    return path


def test_a_bad_level_is_reported_with_file_and_line(tmp_path: Path) -> None:
    path = _write_catalog(
        tmp_path,
        "  - {id: AUTH-001, level: MUST, area: AUTH, text: t, source: s}\n"
        "  - {id: AUTH-002, level: MIGHT, area: AUTH, text: t, source: s}\n",
    )
    with pytest.raises(DataFileError) as error:
        Catalog.load(path)
    assert error.value.line == 6
    assert "MIGHT" in str(error.value)


def test_a_duplicate_id_is_an_error(tmp_path: Path) -> None:
    path = _write_catalog(
        tmp_path,
        "  - {id: AUTH-001, level: MUST, area: AUTH, text: t, source: s}\n"
        "  - {id: AUTH-001, level: MUST, area: AUTH, text: t, source: s}\n",
    )
    with pytest.raises(DataFileError, match="listed twice"):
        Catalog.load(path)
