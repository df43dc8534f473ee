"""Pairwise combinations of optional fields: a covering array, and what a set of rows covers.

Each optional field is either set (to a valid value) or left out. `covering_rows` gives a few
rows in which every pair of fields appears in each of its four combinations (both set, one set,
neither), except the combinations a `requires` rule forbids (`tax_id` without
`billing_address`). It is deterministic: the same fields give the same rows, so a case's id is
stable. `coverage` measures any set of rows at strength 2 or 3, for the certificate.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence

Row = frozenset[str]  # the fields a row sets; the others are left out


def _allowed(values: Mapping[str, bool], requires: Mapping[str, str]) -> bool:
    """Whether these (partial) choices keep every `requires` rule: A set means B set."""
    return not any(
        values.get(needer) is True and values.get(needed) is False
        for needer, needed in requires.items()
    )


def _targets(
    names: Sequence[str], requires: Mapping[str, str], strength: int
) -> set[tuple[tuple[str, bool], ...]]:
    """Every combination of `strength` fields and values that a row may take."""
    found = set()
    for fields in itertools.combinations(names, strength):
        for values in itertools.product((True, False), repeat=strength):
            if _allowed(dict(zip(fields, values, strict=True)), requires):
                found.add(tuple(zip(fields, values, strict=True)))
    return found


def _covered(row: Row, names: Sequence[str], strength: int) -> set[tuple[tuple[str, bool], ...]]:
    return {
        tuple((name, name in row) for name in fields)
        for fields in itertools.combinations(names, strength)
    }


def covering_rows(names: Sequence[str], requires: Mapping[str, str] | None = None) -> list[Row]:
    """Rows that cover every allowed pair of (field, set or not); greedy, deterministic."""
    requires = dict(requires or {})
    names = sorted(names)  # combinations then come in the order `sorted` gives pairs below
    uncovered = _targets(names, requires, 2)
    rows: list[Row] = []
    while uncovered:
        seed = min(uncovered)  # the first uncovered pair, in a stable order
        values: dict[str, bool] = dict(seed)
        for name in names:
            if name in values:
                continue
            best: tuple[int, bool] | None = None
            for choice in (True, False):
                trial = {**values, name: choice}
                if not _allowed(trial, requires):
                    continue
                gain = sum(
                    1
                    for other, value in values.items()
                    if tuple(sorted(((name, choice), (other, value)))) in uncovered
                )
                if best is None or gain > best[0]:
                    best = (gain, choice)
            values[name] = best[1] if best is not None else True
        row = frozenset(name for name, chosen in values.items() if chosen)
        uncovered -= _covered(row, names, 2)
        rows.append(row)
    return rows


def coverage(
    rows: Iterable[Row],
    names: Sequence[str],
    strength: int,
    requires: Mapping[str, str] | None = None,
) -> float:
    """The share of allowed `strength`-way combinations these rows cover (1.0: all of them)."""
    ordered = sorted(names)
    targets = _targets(ordered, dict(requires or {}), strength)
    if not targets:
        return 1.0
    seen: set[tuple[tuple[str, bool], ...]] = set()
    for row in rows:
        seen |= _covered(row, ordered, strength)
    return len(targets & seen) / len(targets)
