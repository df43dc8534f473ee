"""Keep the API key out of everything the suite prints or writes.

The key lives in a `Secret`, whose repr never shows it, and every text that leaves the suite
(failure reports, captured logs, Allure attachments, certificates, curl lines) goes through a
`Redactor`, which knows the key and the forms it travels in: raw, base64 (standard and URL-safe,
with and without padding, alone or as `key:` Basic credentials), URL-encoded, and the look-alikes
the AUTH-004 scenarios send (one character changed, a prefix, another case, the other
environment's prefix).
"""

from __future__ import annotations

import base64
import logging
import urllib.parse
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

API_KEY_ENV = "DODO_PAYMENTS_API_KEY"
SHELL_REFERENCE = f"${API_KEY_ENV}"
MIN_SECRET_LENGTH = 4  # shorter "keys" would redact ordinary text; they are refused upstream


class Secret:
    """A string that does not show itself: repr/str give a placeholder, `reveal()` the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret(<{API_KEY_ENV}>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def encoded_forms(value: str) -> dict[str, str]:
    """Every form of `value` that a request or a log line may carry, keyed by a label."""
    raw = value.encode()
    forms: dict[str, str] = {}
    for label, data in (("base64", raw), ("base64 of Basic credentials", raw + b":")):
        for encoder in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encoder(data).decode()
            forms.setdefault(encoded, label)
            forms.setdefault(encoded.rstrip("="), label)
    # The key inside other base64 (`user:KEY` or `:KEY` as Basic credentials, `KEY:x`): the
    # characters its bytes alone decide, for each of the three alignments it can have.
    for offset in (0, 1, 2):
        whole_groups = (offset + len(raw)) // 3
        for encoder in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encoder(b"\0" * offset + raw).decode()
            inner = encoded[4 if offset else 0 : 4 * whole_groups]
            forms.setdefault(inner, "base64 inside other credentials")
    for encoded in (urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value)):
        if encoded != value:
            forms.setdefault(encoded, "URL-encoded")
    return {form: label for form, label in forms.items() if len(form) >= MIN_SECRET_LENGTH}


def _changed_last(key: str) -> str:
    last = key[-1]
    if last.isdigit():
        swapped = str((int(last) + 1) % 10)
    elif last.isalpha():
        swapped = "b" if last.lower() == "a" else "a"
        swapped = swapped.upper() if last.isupper() else swapped
    else:
        swapped = "x"
    return key[:-1] + swapped


def _other_environment(key: str) -> str:
    for mine, other in (("sk_test_", "sk_live_"), ("sk_live_", "sk_test_")):
        if key.startswith(mine):
            return other + key[len(mine) :]
    return "sk_live_" + key


# Tokens that resemble the key, for AUTH-004 (a server must refuse each): one character
# changed, a prefix, another letter case, the other environment's prefix. They are as secret as
# the key (each gives most of it away), so the redactor knows them too.
LOOK_ALIKES = {
    "changedlast": _changed_last,
    "prefix": lambda key: key[: max(MIN_SECRET_LENGTH, len(key) * 3 // 4)],
    "swapcase": str.swapcase,
    "otherenv": _other_environment,
}


def look_alikes(key: str) -> dict[str, str]:
    """Each look-alike of the key by its name, where it differs from the key."""
    found = {name: make(key) for name, make in LOOK_ALIKES.items()}
    return {name: token for name, token in found.items() if token != key}


class Redactor:
    """Replaces secrets (and their encoded forms) in text and in JSON-like values."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._replacements: list[tuple[str, str]] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            return
        pairs = [(secret, SHELL_REFERENCE)]
        pairs += [
            (form, f"[redacted: {label} of {SHELL_REFERENCE}]")
            for form, label in encoded_forms(secret).items()
        ]
        pairs += [
            (token, f"[redacted: {name} look-alike of {SHELL_REFERENCE}]")
            for name, token in look_alikes(secret).items()
            if len(token) >= MIN_SECRET_LENGTH
        ]
        known = dict(self._replacements)
        known.update(pairs)
        # Longest first, so that an encoded form containing the raw key is replaced whole.
        self._replacements = sorted(known.items(), key=lambda pair: -len(pair[0]))

    def __bool__(self) -> bool:
        return bool(self._replacements)

    def text(self, value: str) -> str:
        for secret, replacement in self._replacements:
            if secret in value:
                value = value.replace(secret, replacement)
        return value

    def value(self, value: Any) -> Any:
        """Redact every string inside a JSON-like value (keys included)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value


class RedactingLogRecords:
    """Every log record, from every logger (child loggers included: a filter on `httpcore`
    never sees the records of `httpcore.http11`), is made with the key redacted, so that no
    handler, pytest's included, ever sees it. Installed as the log record factory for a
    session (`install`) and removed at its end (`uninstall`), leaving the factory it found."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self._previous: Callable[..., logging.LogRecord] | None = None

    def install(self) -> None:
        previous = self._previous = logging.getLogRecordFactory()

        def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if self.redactor:
                record.msg = self.redactor.text(record.getMessage())
                record.args = None
            return record

        logging.setLogRecordFactory(make)

    def uninstall(self) -> None:
        if self._previous is not None:
            logging.setLogRecordFactory(self._previous)
            self._previous = None


def scan(paths: Iterable[Path], secret: str) -> list[tuple[Path, int, str]]:
    """Every place a secret (or an encoded form of it) appears in these files or folders.

    Returns (file, line, which form) without the secret itself, so the report can be printed.
    """
    forms = {secret: "raw", **encoded_forms(secret)}
    forms.update(
        (token, f"{name} look-alike")
        for name, token in look_alikes(secret).items()
        if len(token) >= MIN_SECRET_LENGTH
    )
    hits: list[tuple[Path, int, str]] = []
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            try:
                text = path.read_bytes().decode("utf-8", errors="replace")
            except OSError:
                continue
            for number, line in enumerate(text.splitlines(), start=1):
                found = [form for form in forms if form in line]
                # One hit per occurrence: a form found inside a longer one found is the same.
                kept = [f for f in found if not any(f != g and f in g for g in found)]
                labels = dict.fromkeys(forms[form] for form in kept)
                hits.extend((path, number, label) for label in labels)
    return hits
