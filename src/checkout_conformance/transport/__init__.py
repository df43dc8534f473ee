"""The one send path: every request a run causes, scenario steps and generated cases alike.

`Target.exchange` sends a `PreparedRequest` within the request budget, paced (slower after a
429), with 429s waited out, within one deadline per exchange that holds in every phase, with the
response-size cap, never following a redirect; it returns an `Exchange` (what was sent, what
came back, or why nothing did). `TargetGone` ends the session: a target that stopped answering
or answers 429 to everything. Both the scenario engine and the property tests send through here;
this package imports neither of them.
"""

from . import _evidence as evidence
from ._evidence import Evidence
from ._framing import FRAMINGS
from ._http import (
    MAX_RESPONSE_BYTES,
    NOT_JSON,
    SHOWN_BODY_CHARS,
    Exchange,
    PreparedRequest,
    TransportError,
    curl_line,
    encode_body,
    new_client,
    send,
)
from ._target import (
    BudgetExhausted,
    Clock,
    KeyRefused,
    Pacer,
    SystemClock,
    Target,
    TargetGone,
    TargetUnreachable,
    allowed_rate,
    retry_delay,
)

__all__ = [
    "FRAMINGS",
    "MAX_RESPONSE_BYTES",
    "NOT_JSON",
    "SHOWN_BODY_CHARS",
    "BudgetExhausted",
    "Clock",
    "Evidence",
    "Exchange",
    "KeyRefused",
    "Pacer",
    "PreparedRequest",
    "SystemClock",
    "Target",
    "TargetGone",
    "TargetUnreachable",
    "TransportError",
    "allowed_rate",
    "curl_line",
    "encode_body",
    "evidence",
    "new_client",
    "retry_delay",
    "send",
]
