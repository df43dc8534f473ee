"""`checkout-conformance drift` against real edits of the official document."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from checkout_conformance._contract_build import UpstreamRecord

Edit = Callable[[dict[str, Any]], None]


def drift(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "checkout_conformance", "drift", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def edited_upstream(tmp_path: Path, edit: Edit) -> Path:
    document = json.loads(UpstreamRecord.load().path.read_text())
    edit(document)
    path = tmp_path / "new.json"
    path.write_text(json.dumps(document))
    return path


def add_feature_flag(doc: dict[str, Any]) -> None:
    doc["components"]["schemas"]["CheckoutSessionFlags"]["properties"][
        "require_cardholder_name"
    ] = {"type": "boolean"}


def remove_enum_value(doc: dict[str, Any]) -> None:
    doc["components"]["schemas"]["PaymentMethodTypes"]["enum"].remove("satispay")


def require_checkout_url(doc: dict[str, Any]) -> None:
    schema = doc["components"]["schemas"]["CreateSessionResponse"]
    schema["required"].append("checkout_url")
    schema["properties"]["checkout_url"]["type"] = "string"


def declare_401(doc: dict[str, Any]) -> None:
    doc["paths"]["/checkouts"]["post"]["responses"]["401"] = {"description": "Unauthorized"}


def unrelated_change(doc: dict[str, Any]) -> None:
    doc["info"]["description"] = "changed"
    doc["paths"]["/payments"] = {}


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            add_feature_flag,
            "+ request.feature_flags.require_cardholder_name: added (boolean, optional)",
        ),
        (
            remove_enum_value,
            "~ request.allowed_payment_method_types[]: enum values removed: satispay",
        ),
        (require_checkout_url, "~ response.200.checkout_url: now required"),
        (require_checkout_url, "~ response.200.checkout_url: no longer nullable"),
        (declare_401, "+ response 401: added"),
    ],
)
def test_relevant_changes_are_reported_with_exit_1(
    tmp_path: Path, edit: Edit, expected: str
) -> None:
    result = drift(str(edited_upstream(tmp_path, edit)))
    assert result.returncode == 1, result.stderr
    assert expected in result.stdout


def test_no_relevant_change_exits_0(tmp_path: Path) -> None:
    result = drift(str(edited_upstream(tmp_path, unrelated_change)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no change to POST /checkouts" in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("{not json", "not valid JSON/YAML"),
        ('{"hello": "world"}', "not an OpenAPI document"),
        ('{"openapi": "3.1.0", "paths": {"/other": {}}}', "has no `POST /checkouts` operation"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "new.json"
    if content is not None:
        path.write_text(content)
    result = drift(str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr
