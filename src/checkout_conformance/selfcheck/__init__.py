"""Self-certification: servers that differ from the reference on purpose.

`variants` are tolerated differences the suite must accept; each is a `Rewrite` of the reference
app. `checkout-conformance serve --variant NAME` serves one over HTTP.
"""

from ._rewrite import Answer, Request, Rewrite
from .variants import VARIANTS, Variant

__all__ = ["VARIANTS", "Answer", "Request", "Rewrite", "Variant"]
