"""The covering array behind the `pairwise` expansion, and the coverage the certificate reports."""

from __future__ import annotations

import itertools

import pytest

from checkout_conformance.pairwise import coverage, covering_rows


@pytest.mark.parametrize("count", [2, 3, 5, 12, 20])
def test_every_pair_of_fields_appears_in_all_four_combinations(count: int) -> None:
    names = [f"field_{index}" for index in range(count)]
    rows = covering_rows(names)
    for first, second in itertools.combinations(names, 2):
        seen = {(first in row, second in row) for row in rows}
        assert seen == {(True, True), (True, False), (False, True), (False, False)}
    assert coverage(rows, names, 2) == 1.0
    assert len(rows) <= 2 * count + 2  # far fewer than the 2**count subsets


def test_a_required_companion_is_never_left_out_and_the_rest_is_still_covered() -> None:
    names = ["billing_address", "metadata", "tax_id", "short_link"]
    rows = covering_rows(names, {"tax_id": "billing_address"})
    assert all("billing_address" in row for row in rows if "tax_id" in row)
    assert coverage(rows, names, 2, {"tax_id": "billing_address"}) == 1.0


def test_the_rows_are_the_same_every_time_whatever_the_order_of_the_fields() -> None:
    names = ["c", "a", "d", "b", "e"]
    assert covering_rows(names) == covering_rows(sorted(names)) == covering_rows(names)


def test_coverage_counts_what_a_set_of_rows_misses() -> None:
    names = ["a", "b", "c"]
    assert coverage([frozenset()], names, 2) == 3 / 12  # only "neither" for each pair
    every_subset = [frozenset(s) for n in range(4) for s in itertools.combinations(names, n)]
    assert coverage(every_subset, names, 3) == 1.0
