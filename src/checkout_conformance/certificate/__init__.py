"""The conformance certificate: the one outcome of a run, and everything that renders it.

Built once, from the test records of one run (see `results`), the catalog and the run's
settings (`_build`); written with its tests file, its Markdown and its badge; rendered for the
terminal (`_render`); named portably, so that it verifies wherever it was made (`_names`);
signed (`_sign`) and verified (`_verify`). Secrets never reach it: evidence is redacted where it
is recorded, the target appears as its host only, and the command line is redacted and keeps no
absolute path and no URL beyond scheme and host.
"""

from ._build import (
    CERTIFICATE_VERSION,
    TESTS_FILE_SUFFIX,
    RunInfo,
    build,
    companion_paths,
    content_digest,
    git_commit,
    tests_index,
    tests_path,
    write,
)
from ._names import (
    PACKAGED_PREFIX,
    combined_hash,
    portable_command,
    portable_location,
    portable_text,
    scenario_hashes,
    suite_root_name,
)
from ._render import BADGE_COLOURS, badge, markdown, terminal_lines
from ._sign import SigningError, generate_key, sign
from ._verify import SCHEMA_PATH, schema_errors, verify

__all__ = [
    "BADGE_COLOURS",
    "CERTIFICATE_VERSION",
    "PACKAGED_PREFIX",
    "SCHEMA_PATH",
    "TESTS_FILE_SUFFIX",
    "RunInfo",
    "SigningError",
    "badge",
    "build",
    "combined_hash",
    "companion_paths",
    "content_digest",
    "generate_key",
    "git_commit",
    "markdown",
    "portable_command",
    "portable_location",
    "portable_text",
    "scenario_hashes",
    "schema_errors",
    "sign",
    "suite_root_name",
    "terminal_lines",
    "tests_index",
    "tests_path",
    "verify",
    "write",
]
