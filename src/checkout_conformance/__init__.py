"""checkout-conformance: contract tests and a conformance certificate for `POST /checkouts`.

Public surface:
- `load_contract`, `Contract`: the contract (`contracts/checkouts.openapi.yaml`);
- `load_catalog`, `Catalog`, `Requirement`: the requirement catalog;
- `Profile`: target profiles;
- `checkout_conformance.server`: the reference server (`create_app`, `serve`).
The pytest plugin (`checkout_conformance.plugin`) is activated by the repository's conftest.py.
"""

from importlib.metadata import PackageNotFoundError, version

from .catalog import Catalog, Requirement, load_catalog
from .contract import Contract, load_contract
from .profile import Profile

try:
    __version__ = version("checkout-conformance")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"

__all__ = [
    "Catalog",
    "Contract",
    "Profile",
    "Requirement",
    "__version__",
    "load_catalog",
    "load_contract",
]
