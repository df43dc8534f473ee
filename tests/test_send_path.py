"""The one send path and the property checks, piece by piece: pace, 429 figures, verdicts."""

from __future__ import annotations

import email.utils
import time
from pathlib import Path
from typing import Any

import httpx

from checkout_conformance.contract import load_contract
from checkout_conformance.properties import judge
from checkout_conformance.transport import Exchange, PreparedRequest
from checkout_conformance.transport._target import allowed_rate, retry_delay

CONTRACT = load_contract()
REQUEST = PreparedRequest("POST", "http://127.0.0.1:1/checkouts", [], b"{}")
MINIMAL = {"product_cart": [{"product_id": "pdt_1", "quantity": 1}]}


def answer(
    status: int | None, body: bytes = b"", headers: dict[str, str] | None = None
) -> Exchange:
    return Exchange(REQUEST, status=status, headers=httpx.Headers(headers or {}), body=body)


# -- 429 figures and the pace -----------------------------------------------------------------
def test_the_allowed_rate_is_the_limit_over_the_window_left() -> None:
    limited = answer(429, headers={"x-ratelimit-limit": "40", "x-ratelimit-reset": "1"})
    assert allowed_rate(limited) == 40
    per_minute = answer(429, headers={"x-ratelimit-limit": "240", "x-ratelimit-reset": "60"})
    assert allowed_rate(per_minute) == 4
    assert allowed_rate(answer(429, headers={"retry-after": "2"})) is None
    assert allowed_rate(answer(429, headers={"x-ratelimit-limit": "nonsense"})) is None


def test_retry_delays_read_seconds_epoch_timestamps_and_http_dates() -> None:
    assert retry_delay(answer(429, headers={"retry-after": "3"}), 0) == 3
    soon = time.time() + 5
    assert 3 < retry_delay(answer(429, headers={"x-ratelimit-reset": f"{soon:.0f}"}), 0) <= 5.5
    date = email.utils.formatdate(soon, usegmt=True)
    assert 3 < retry_delay(answer(429, headers={"retry-after": date}), 0) <= 5.5
    assert retry_delay(answer(429), 2) == 2.0  # no header: exponential backoff


# -- the property checks, as the catalog words them ---------------------------------------------
def problems(verdicts: list[Any]) -> dict[str, str | None]:
    return {verdict.requirement: verdict.problem for verdict in verdicts}


def test_a_valid_request_refused_with_the_documented_body_passes_rob_003() -> None:
    refused = answer(422, b'{"code": "INVALID_URL", "message": "no host"}')
    assert problems(judge(refused, MINIMAL, True, CONTRACT, lambda: "ROB-002")) == {
        "ROB-001": None,
        "ROB-003": None,
        "VAL-015": None,
    }


def test_a_valid_request_refused_in_another_json_format_is_val_015_alone() -> None:
    """One deviation, one requirement: ROB-003 judges the class and that the body is JSON;
    the documented {code, message} format is VAL-015's."""
    refused = answer(422, b'{"error": {"type": "invalid"}}')
    found = problems(judge(refused, MINIMAL, True, CONTRACT, lambda: "ROB-002"))
    assert found["ROB-003"] is None
    assert found["VAL-015"] is not None and '{"error": {"type": "invalid"}}' in found["VAL-015"]


def test_a_valid_request_refused_without_json_fails_rob_003_showing_it() -> None:
    refused = answer(422, b"no, not today")
    found = problems(judge(refused, MINIMAL, True, CONTRACT, lambda: "ROB-002"))
    assert found["ROB-003"] is not None and "no, not today" in found["ROB-003"]


def test_an_invalid_request_rejected_with_any_4xx_passes_rob_002() -> None:
    for status in (400, 409, 413, 422):
        rejected = answer(status, b'{"code": "X", "message": "no"}')
        found = problems(judge(rejected, {"product_cart": "x"}, False, CONTRACT, lambda: "ROB-002"))
        assert found == {"ROB-001": None, "ROB-002": None, "VAL-015": None}


def test_an_invalid_request_accepted_or_given_a_session_fails_rob_002() -> None:
    invalid = {"product_cart": "x"}
    accepted = problems(judge(answer(200, b"{}"), invalid, False, CONTRACT, lambda: "ROB-002"))
    assert accepted["ROB-002"] is not None
    with_session = answer(422, b'{"code": "X", "message": "no", "session_id": "cks_1"}')
    found = problems(judge(with_session, invalid, False, CONTRACT, lambda: "ROB-002"))
    assert "session_id" in str(found["ROB-002"])


def test_a_5xx_or_no_answer_is_rob_001_alone() -> None:
    assert set(problems(judge(answer(500, b"oops"), MINIMAL, True, CONTRACT, str))) == {"ROB-001"}
    dropped = answer(None)
    dropped.error = "RemoteProtocolError: closed"
    found = problems(judge(dropped, {"x": 1}, False, CONTRACT, str))
    assert list(found) == ["ROB-001"] and "closed" in str(found["ROB-001"])


def test_the_checkout_url_rule_on_accepted_answers() -> None:
    charge = {**MINIMAL, "payment_method_id": "pm_1", "confirm": True}
    leaked = answer(
        200,
        b'{"session_id": "cks_1", "checkout_url": "https://x.example/c"}',
        headers={"content-type": "application/json"},
    )
    assert problems(judge(leaked, charge, True, CONTRACT, str))["CURL-001"] is not None
    assert problems(judge(leaked, MINIMAL, True, CONTRACT, str))["CURL-003"] is None
    not_json = answer(200, b"<html>", headers={"content-type": "text/html"})
    found = problems(judge(not_json, MINIMAL, True, CONTRACT, str))
    assert found["RESP-001"] is not None and "CURL-003" not in found


# -- bounded evidence --------------------------------------------------------------------------
def test_identical_large_bodies_are_kept_once_and_the_run_stays_within_its_limit(
    tmp_path: Path,
) -> None:
    from checkout_conformance.redact import Redactor
    from checkout_conformance.transport import Evidence
    from checkout_conformance.transport._evidence import BODIES

    huge = b'{"message": "' + b"x" * 1_000_000 + b'"}'
    store = Evidence(tmp_path / "failures", limit=3 * 1024 * 1024)
    for index in range(200):  # 200 failing tests, the same 1 MB answer each time
        store.write(f"t{index}", answer(500, huge), Redactor(), f"[MUST] t{index} failed")
    sizes = [p.stat().st_size for p in (tmp_path / "failures").rglob("*") if p.is_file()]
    assert sum(sizes) < 1.2 * len(huge)  # kept once, whatever the number of failures
    assert len(list((tmp_path / "failures" / BODIES).iterdir())) == 1
    shown = (tmp_path / "failures" / "t7" / "exchange.txt").read_text()
    assert "is kept once in ../_bodies/" in shown
    assert store.cut == 0

    for index in range(10):  # now a different 1 MB body each time: the limit holds
        body = b'{"message": "' + bytes([65 + index]) * 1_000_000 + b'"}'
        store.write(f"u{index}", answer(500, body), Redactor(), f"[MUST] u{index} failed")
    total = sum(p.stat().st_size for p in (tmp_path / "failures").rglob("*") if p.is_file())
    assert total < 3 * 1024 * 1024 + 1.1 * len(huge)  # at most one body past the limit
    assert store.cut >= 6
    assert "not kept" in (tmp_path / "failures" / "u9" / "exchange.txt").read_text()
    assert "curl" in (tmp_path / "failures" / "u9" / "curl.sh").read_text()
