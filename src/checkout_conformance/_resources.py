"""Where the suite's data files live.

The contract, the catalog, the bundled profiles and the suite are top-level folders of the
repository (`contracts/`, `fixtures/`, `suites/`). The package reaches them through the `_data`
symlinks, which setuptools turns into copies when it builds a wheel, so an installed package
finds the same files an editable checkout does: one source of truth, two ways in.
"""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "_data"
CONTRACTS_DIR = DATA_DIR / "contracts"
FIXTURES_DIR = DATA_DIR / "fixtures"
SUITES_DIR = (DATA_DIR / "suites").resolve()  # the packaged suite: scenarios, property tests

CONTRACT_PATH = CONTRACTS_DIR / "checkouts.openapi.yaml"
OVERLAY_PATH = CONTRACTS_DIR / "overlay.yaml"
UPSTREAM_DIR = CONTRACTS_DIR / "upstream"
UPSTREAM_RECORD_PATH = UPSTREAM_DIR / "UPSTREAM.yaml"
CATALOG_PATH = CONTRACTS_DIR / "requirements.yaml"
CATALOG_SCHEMA_PATH = CONTRACTS_DIR / "requirements.schema.json"
SCENARIO_SCHEMA_PATH = CONTRACTS_DIR / "scenario.schema.json"
PROFILE_SCHEMA_PATH = CONTRACTS_DIR / "profile.schema.json"
PROFILES_DIR = FIXTURES_DIR / "profiles"
REFERENCE_PROFILE_PATH = PROFILES_DIR / "reference.yaml"
BODIES_PATH = FIXTURES_DIR / "bodies.yaml"
VALUES_PATH = FIXTURES_DIR / "values.yaml"


def project_root() -> Path | None:
    """The repository checkout the package runs from, or None for an installed wheel."""
    root = CONTRACTS_DIR.resolve().parent
    return root if (root / "pyproject.toml").is_file() else None
