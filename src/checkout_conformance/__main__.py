"""`python -m checkout_conformance` is the `checkout-conformance` command."""

import sys

from .cli import main

sys.exit(main())
