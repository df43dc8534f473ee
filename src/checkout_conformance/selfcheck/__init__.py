"""Self-certification: servers that differ from the reference on purpose.

`mutants` each break one requirement in a realistic way, and the suite must catch each;
`variants` are tolerated differences the suite must accept. Both are `Rewrite`s of the
reference app. `checkout-conformance serve --mutant NAME` (or `--variant NAME`) serves one over
HTTP; `checkout-conformance selfcheck` runs the suite against all of them (the kill matrix).
"""

from ._rewrite import After, Answer, Before, Request, Rewrite
from ._run import kill_matrix, markdown, run_all, suite_command, suite_environment
from .mutants import MUTANTS, Mutant
from .variants import VARIANTS, PerSecondRateLimit, Variant

__all__ = [
    "MUTANTS",
    "VARIANTS",
    "After",
    "Answer",
    "Before",
    "Mutant",
    "PerSecondRateLimit",
    "Request",
    "Rewrite",
    "Variant",
    "kill_matrix",
    "markdown",
    "run_all",
    "suite_command",
    "suite_environment",
]
