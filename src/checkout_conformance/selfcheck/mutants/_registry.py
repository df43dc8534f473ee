"""The mutant catalog: `Mutant`, the `MUTANTS` registry, and the decorators that fill it.

A hook is registered where it is written (`@before`, `@after`, `@edits_body`), so a mutant's
name, target and description stand next to the code that breaks the server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .._rewrite import After, Before
from ._helpers import edit_body


@dataclass(frozen=True)
class Mutant:
    name: str
    target: str  # the requirement it breaks
    description: str
    before: Before | None = None
    after: After | None = None
    properties_only: bool = False  # no hand-written scenario names the triggering input


MUTANTS: dict[str, Mutant] = {}

_Hook = TypeVar("_Hook", bound=Callable[..., Any])


def register(mutant: Mutant) -> Mutant:
    """Add one mutant to the catalog; a name is registered once."""
    if mutant.name in MUTANTS:
        raise ValueError(f"mutant {mutant.name!r} is registered twice")
    MUTANTS[mutant.name] = mutant
    return mutant


def _registering(make: Callable[[Any], Mutant]) -> Callable[[_Hook], _Hook]:
    """A decorator that registers the mutant `make` builds around the decorated function."""

    def decorate(function: _Hook) -> _Hook:
        register(make(function))
        return function

    return decorate


def before(
    name: str, target: str, description: str, *, properties_only: bool = False
) -> Callable[[_Hook], _Hook]:
    """Register a hook that sees the request first: it may answer, or rewrite the request."""
    return _registering(
        lambda hook: Mutant(name, target, description, before=hook, properties_only=properties_only)
    )


def after(
    name: str, target: str, description: str, *, properties_only: bool = False
) -> Callable[[_Hook], _Hook]:
    """Register a hook that rewrites the reference server's answer."""
    return _registering(
        lambda hook: Mutant(name, target, description, after=hook, properties_only=properties_only)
    )


def edits_body(
    name: str, target: str, description: str, *, properties_only: bool = False
) -> Callable[[_Hook], _Hook]:
    """Register an edit of an authenticated JSON body before the reference server checks it:
    the way a lenient server repairs input instead of refusing it."""
    return _registering(
        lambda edit: Mutant(
            name, target, description, before=edit_body(edit), properties_only=properties_only
        )
    )
