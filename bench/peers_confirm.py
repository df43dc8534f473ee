"""Confirm each row of the peers table with one direct request: send it, print what came back.

    python bench/peers_confirm.py [--peers prism,mockoon,...]

For every requirement a peer failed in `bench/results/peers/summary.json` (written by
`bench/peers.py`), this sends the one request below that shows the fault, with plain httpx and
nothing of the suite, and prints the answer and whether it breaks the requirement. A row whose
fault does not reproduce is printed as NOT REPRODUCED and the exit status is 1.
Needs `npm install --prefix bench`.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from _servers import KEY, PEERS, ROOT, start

IDS = {
    "product": "pdt_ref_one_time_ebook",
    "subscription": "pdt_ref_subscription_pro",
    "addon": "adn_ref_extra_seats",
    "customer": "cus_ref_ada_lovelace",
    "payment_method": "pm_ref_ada_visa_4242",
    "other_payment_method": "pm_ref_grace_mastercard_4444",
}
MINIMAL: dict[str, Any] = {"product_cart": [{"product_id": IDS["product"], "quantity": 1}]}
ADDRESS = {
    "country": "US",
    "state": "CA",
    "city": "San Francisco",
    "street": "1 Market Street",
    "zipcode": "94105",
}
CONFIRMED: dict[str, Any] = {
    **MINIMAL,
    "billing_address": ADDRESS,
    "confirm": True,
    "customer": {"customer_id": IDS["customer"]},
    "payment_method_id": IDS["payment_method"],
}
BEARER = {"Authorization": f"Bearer {KEY}"}


@dataclass
class Probe:
    """One request, and how to tell from its answer that the requirement is broken."""

    what: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=lambda: dict(BEARER))
    raw: bytes | None = None
    method: str = "POST"
    # A whole HTTP/1.1 message written to a socket as is (after which the client closes its
    # side), for faults no HTTP client will send; `{host}` and `{key}` are filled in.
    wire: bytes | None = None
    broken: Callable[[httpx.Response], bool] = lambda response: response.is_success


def with_(**fields: Any) -> dict[str, Any]:
    return {**MINIMAL, **fields}


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _no_documented_body(response: httpx.Response) -> bool:
    body = _json(response)
    return not (
        isinstance(body, dict)
        and isinstance(body.get("code"), str)
        and isinstance(body.get("message"), str)
    )


def _url(response: httpx.Response) -> Any:
    body = _json(response)
    return body.get("checkout_url", "(absent)") if isinstance(body, dict) else "(no JSON)"


# One probe per requirement; `"ID peer"` where that peer breaks it another way.
PROBES: dict[str, Probe] = {
    "AUTH-001": Probe("no Authorization header", MINIMAL, headers={}),
    "AUTH-002": Probe(
        "Basic credentials",
        MINIMAL,
        headers={"Authorization": "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()},
    ),
    # HTTP clients refuse to send trailing whitespace: `Bearer` with no token, as the suite does.
    "AUTH-003": Probe("an empty bearer token", MINIMAL, headers={"Authorization": "Bearer"}),
    "AUTH-004": Probe(
        "a key the server never issued",
        MINIMAL,
        headers={"Authorization": "Bearer sk_test_never_issued_0000"},
    ),
    "AUTH-005": Probe("the key in X-API-Key instead", MINIMAL, headers={"X-API-Key": KEY}),
    "AUTH-007": Probe(
        "an unknown key and a body that is not JSON",
        raw=b'{"product_cart": [',
        headers={"Authorization": "Bearer sk_test_never_issued_0000"},
        broken=lambda response: response.status_code not in (401, 403),
    ),
    "AUTH-008": Probe(
        "no key: the error body",
        MINIMAL,
        headers={},
        broken=lambda response: not response.is_success and _no_documented_body(response),
    ),
    "AUTH-009": Probe(
        "the scheme in capitals",
        MINIMAL,
        headers={"Authorization": f"BEARER {KEY}"},
        broken=lambda response: not response.is_success,
    ),
    "AUTH-006 steady": Probe(
        "the key as a form body parameter, no Authorization header",
        raw=f"api_key={KEY}".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        broken=lambda response: response.status_code != 401,
    ),
    "AUTH-008 steady": Probe(
        "the key as a form body parameter, no Authorization header: the error body",
        raw=f"api_key={KEY}".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        broken=lambda response: not response.is_success and _no_documented_body(response),
    ),
    "VAL-006 steady": Probe(
        "billing_currency in full-width letters (ＡＥＤ)",
        with_(billing_currency="\uff21\uff25\uff24"),
        broken=lambda response: not 400 <= response.status_code < 500,
    ),
    "VAL-007 steady": Probe(
        "a billing country in full-width letters (ＡＤ)",
        with_(billing_address={"country": "\uff21\uff24"}),
        broken=lambda response: not 400 <= response.status_code < 500,
    ),
    "ROB-001 steady": Probe(
        "billing_currency in full-width letters (ＡＥＤ): a 5xx?",
        with_(billing_currency="\uff21\uff25\uff24"),
        broken=lambda response: response.status_code >= 500,
    ),
    "VAL-001": Probe("a body without product_cart", {"customer": {"email": "ada@example.com"}}),
    "VAL-002": Probe("a cart item that is null", {"product_cart": [None]}),
    "VAL-003": Probe("a cart item without product_id", {"product_cart": [{"quantity": 1}]}),
    "VAL-006": Probe("billing_currency `usd` (lower case)", with_(billing_currency="usd")),
    "VAL-007": Probe("a billing address without country", with_(billing_address={"city": "Paris"})),
    "VAL-010": Probe(
        "a custom field without field_type", with_(custom_fields=[{"key": "k", "label": "K"}])
    ),
    "VAL-011": Probe("customization.theme `purple`", with_(customization={"theme": "purple"})),
    "VAL-013": Probe(
        "the minimal request sent as a form (application/x-www-form-urlencoded)",
        raw=b"product_cart=pdt_ref_one_time_ebook",
        headers={**BEARER, "Content-Type": "application/x-www-form-urlencoded"},
    ),
    "RESP-002": Probe(
        "the minimal request: session_id",
        MINIMAL,
        broken=lambda response: not (_json(response) or {}).get("session_id"),
    ),
    "VAL-004": Probe(
        "an addon quantity of -1",
        {
            "product_cart": [
                {
                    "product_id": IDS["subscription"],
                    "quantity": 1,
                    "addons": [{"addon_id": IDS["addon"], "quantity": -1}],
                }
            ]
        },
    ),
    "VAL-005": Probe(
        "a payment method type twice", with_(allowed_payment_method_types=["credit", "credit"])
    ),
    "VAL-008": Probe("a customer with a name only", with_(customer={"name": "Ada Lovelace"})),
    "VAL-009": Probe("a metadata value that is a list", with_(metadata={"tags": [1, 2]})),
    "VAL-012": Probe(
        "a body that is not JSON (`nul`)",
        raw=b"nul",
        broken=lambda response: response.status_code not in (400, 422),
    ),
    "VAL-012 steady": Probe("a body that is JSON null", raw=b"null"),
    "VAL-014": Probe(
        "a cart item that is a string",
        {"product_cart": [IDS["product"]]},
        broken=lambda response: response.status_code != 422,
    ),
    "VAL-015": Probe(
        "an invalid body: the error body",
        {"product_cart": "not a list"},
        broken=lambda response: not response.is_success and _no_documented_body(response),
    ),
    "RULE-001": Probe("a payment method with confirm false", {**CONFIRMED, "confirm": False}),
    "RULE-002": Probe(
        "a payment method with a new customer",
        {**CONFIRMED, "customer": {"email": "ada@example.com"}},
    ),
    "RULE-003": Probe("tax_id without a billing address", with_(tax_id="DE123456789")),
    "RULE-004": Probe(
        "six custom fields",
        with_(
            custom_fields=[
                {"key": f"f{i}", "label": f"Field {i}", "field_type": "text"} for i in range(6)
            ]
        ),
    ),
    "RULE-005": Probe(
        "discount_code and discount_codes", with_(discount_code="A", discount_codes=["B"])
    ),
    "RULE-006": Probe(
        "a product that does not exist",
        {"product_cart": [{"product_id": "pdt_does_not_exist", "quantity": 1}]},
    ),
    "RULE-007": Probe(
        "quantity 0", {"product_cart": [{"product_id": IDS["product"], "quantity": 0}]}
    ),
    "RULE-008": Probe(
        "a trial of 10001 days", with_(subscription_data={"trial_period_days": 10001})
    ),
    "RULE-009": Probe(
        "a dropdown without options",
        with_(custom_fields=[{"key": "size", "label": "Size", "field_type": "dropdown"}]),
    ),
    "RULE-010": Probe(
        "a non-https font URL",
        with_(customization={"theme_config": {"font_primary_url": "http://fonts.example/a.woff"}}),
    ),
    "RULE-011": Probe(
        "a required phone number that cannot be collected",
        with_(feature_flags={"require_phone_number": True, "allow_phone_number_collection": False}),
    ),
    "RULE-012": Probe(
        "confirm with a country-only address",
        with_(
            confirm=True,
            customer={"customer_id": IDS["customer"]},
            billing_address={"country": "US"},
        ),
    ),
    "RULE-013": Probe("an empty cart", {"product_cart": []}),
    "RULE-014": Probe(
        "21 cart items",
        {"product_cart": [{"product_id": IDS["product"], "quantity": 1}] * 21},
    ),
    "RULE-015": Probe(
        "addons on a one-time product",
        {
            "product_cart": [
                {
                    "product_id": IDS["product"],
                    "quantity": 1,
                    "addons": [{"addon_id": IDS["addon"], "quantity": 1}],
                }
            ]
        },
    ),
    "RULE-016": Probe(
        "another customer's payment method",
        {**CONFIRMED, "payment_method_id": IDS["other_payment_method"]},
    ),
    "ACC-006": Probe(
        "an integer metadata value",
        with_(metadata={"attempt": 1}),
        broken=lambda response: response.status_code != 200,
    ),
    "RESP-005": Probe(
        "the minimal request (sent twice: same session_id?)",
        MINIMAL,
        broken=lambda response: False,  # judged in main() from two answers
    ),
    "RESP-006": Probe(
        "the minimal request: checkout_url",
        MINIMAL,
        broken=lambda response: not str(_url(response)).startswith("https://"),
    ),
    "CURL-001": Probe(
        "a charge with a saved payment method: checkout_url",
        CONFIRMED,
        broken=lambda response: (
            isinstance(_url(response), str) and _url(response) not in ("(absent)", "(no JSON)")
        ),
    ),
    "CURL-002": Probe(
        "a charge with a saved payment method: checkout_url present as null",
        CONFIRMED,
        broken=lambda response: _url(response) == "(absent)",
    ),
    "CURL-003": Probe(
        "the minimal request: checkout_url",
        MINIMAL,
        broken=lambda response: (
            not (isinstance(_url(response), str) and _url(response)) or _url(response) == "(absent)"
        ),
    ),
    "CURL-004": Probe(
        "a charge with a saved payment method: payment_id",
        CONFIRMED,
        broken=lambda response: not (_json(response) or {}).get("payment_id"),
    ),
    "ROB-001": Probe(
        "metadata nested 5000 deep, then the minimal request (is it still answering?)",
        raw=b'{"product_cart":[{"product_id":"pdt_ref_one_time_ebook","quantity":1}],"metadata":'
        + b'{"x":' * 5000
        + b"1"
        + b"}" * 5001,
        broken=lambda response: response.status_code >= 500,
    ),
    "ROB-001 after": Probe("the minimal request", MINIMAL),
    "ROB-001 steady-relaxed": Probe(
        "a Content-Length 100 bytes longer than the minimal body, then the client closes its side",
        wire=b"POST /checkouts HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
        b"Content-Type: application/json\r\nContent-Length: "
        + str(len(json.dumps(MINIMAL)) + 100).encode()
        + b"\r\n\r\n"
        + json.dumps(MINIMAL).encode(),
        broken=lambda response: response.is_success,
    ),
    "ROB-002": Probe("a body that is JSON null (schema-invalid)", raw=b"null"),
    "ROB-003": Probe(
        "a schema-valid body with an integer metadata value: the refusal's body",
        with_(metadata={"attempt": 1}),
        broken=lambda response: 400 <= response.status_code < 500 and _no_documented_body(response),
    ),
    "ROB-004": Probe("a body of 3 MB", with_(x_padding="x" * 3_000_000)),
    "ROB-005": Probe(
        "DELETE /checkouts",
        MINIMAL,
        method="DELETE",
        broken=lambda response: response.status_code not in (404, 405),
    ),
}


def send_wire(url: str, probe: Probe) -> httpx.Response | str:
    """Write the probe's message to a socket, close our side, read what comes back."""
    import socket

    assert probe.wire is not None
    address = httpx.URL(url)
    host = f"{address.host}:{address.port}"
    message = probe.wire.replace(b"{host}", host.encode()).replace(b"{key}", KEY.encode())
    with socket.create_connection((address.host, address.port or 80), timeout=10) as sock:
        sock.sendall(message)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    if not answer.startswith(b"HTTP/1.1 "):
        return (
            "no answer (the connection was closed)" if not answer else f"not HTTP: {answer[:40]!r}"
        )
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return httpx.Response(status, content=body)


def send(client: httpx.Client, url: str, probe: Probe) -> httpx.Response | str:
    if probe.wire is not None:
        return send_wire(url, probe)
    content = probe.raw if probe.raw is not None else json.dumps(probe.body).encode()
    headers = {"Content-Type": "application/json", **probe.headers}
    try:
        return client.request(probe.method, url, content=content, headers=headers)
    except httpx.LocalProtocolError as error:  # never left this process: proves nothing
        raise RuntimeError(f"the probe could not be sent: {error}") from None
    except httpx.HTTPError as error:
        return f"no answer ({type(error).__name__})"


def confirm(name: str, failed: list[dict[str, Any]]) -> list[tuple[str, str, bool]]:
    started = start(name)
    if started is None:
        print(f"{name}: not installed (npm install --prefix bench)", file=sys.stderr)
        return []
    process, url = started
    rows: list[tuple[str, str, bool]] = []
    try:
        with httpx.Client(timeout=10) as client:
            for failure in failed:
                requirement = failure["id"]
                probe = PROBES.get(f"{requirement} {name}", PROBES.get(requirement))
                if probe is None:
                    rows.append((requirement, "no direct probe written for this row", False))
                    continue
                answer = send(client, url, probe)
                if isinstance(answer, str):
                    rows.append((requirement, f"{probe.what}: {answer}", True))
                    continue
                broken = probe.broken(answer)
                if requirement == "ROB-001" and not broken:  # liveness: the minimal request
                    after = send(client, url, PROBES["ROB-001 after"])
                    broken = isinstance(after, str) or after.status_code >= 500
                    answer_after = after if isinstance(after, str) else str(after.status_code)
                    what = f"{probe.what}: {answer.status_code}, then {answer_after}"
                    rows.append((requirement, what, broken))
                    continue
                if requirement == "RESP-005":
                    again = send(client, url, probe)
                    first = (_json(answer) or {}).get("session_id")
                    second = (
                        None if isinstance(again, str) else (_json(again) or {}).get("session_id")
                    )
                    broken = first is not None and first == second
                shown = answer.text[:120].replace("\n", " ")
                rows.append((requirement, f"{probe.what}: {answer.status_code} {shown}", broken))
    finally:
        process.terminate()
        process.wait(10)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", default=",".join(PEERS))
    args = parser.parse_args()
    summaries = json.loads((ROOT / "bench/results/peers/summary.json").read_text("utf-8"))
    missing = 0
    for summary in summaries:
        if summary["peer"] not in args.peers.split(",") or "failed" not in summary:
            continue
        print(f"== {summary['peer']} {summary['version']}")
        for requirement, answer, broken in confirm(summary["peer"], summary["failed"]):
            mark = "confirmed     " if broken else "NOT REPRODUCED"
            missing += not broken
            print(f"  {mark} {requirement:<9} {answer}")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
