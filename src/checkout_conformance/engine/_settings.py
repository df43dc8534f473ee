"""The suite's options: each a command-line flag, an ini key and an environment variable.

Precedence, as in pytest-django: command line, then environment, then ini file, then default.
`--base-url` belongs to pytest-base-url (with `PYTEST_BASE_URL` and the `base_url` ini key); no
base URL means the embedded reference server.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import pytest

from .. import _resources
from .._yamlfile import DataFileError, closest
from ..profile import Profile
from ..redact import API_KEY_ENV

Kind = Literal["string", "bool", "float", "int", "path"]


@dataclass(frozen=True)
class Option:
    """One option, from one table entry: its name gives the flag (unless the plain flag would be
    too generic), the destination and ini key (`conformance_NAME`) and the environment variable
    (`CHECKOUT_CONFORMANCE_NAME`)."""

    name: str
    help: str
    default: Any = None
    kind: Kind = "string"
    flag_name: str | None = None  # the flag without `--`, where it is not the name
    choices: tuple[str, ...] = ()  # the values a string option takes, when they are few

    @property
    def flag(self) -> str:
        return "--" + (self.flag_name or self.name.replace("_", "-"))

    @property
    def dest(self) -> str:
        return f"conformance_{self.name}"

    @property
    def ini(self) -> str:
        return self.dest

    @property
    def env(self) -> str:
        return f"CHECKOUT_CONFORMANCE_{self.name.upper()}"

    def ini_type(self) -> Literal["bool", "string"]:
        return "bool" if self.kind == "bool" else "string"


OPTIONS = (
    Option(
        "profile",
        "profile YAML naming the ids that exist on the target (default: the reference profile;"
        " required with --base-url)",
        kind="path",
        flag_name="target-profile",
    ),
    Option(
        "certificate",
        "where to write the conformance certificate (default reports/certificate.json;"
        " reports/NAME/certificate.json for a run of your own scenario folder NAME)",
        "reports/certificate.json",
        "path",
    ),
    Option(
        "fail_on_should", "count SHOULD failures like MUST failures (non-zero exit)", False, "bool"
    ),
    Option("request_timeout", "seconds to wait for each response (default 10)", 10.0, "float"),
    Option("examples", "generated requests per property test (default 150)", 150, "int"),
    Option(
        "seed",
        "seed of the property tests' generation (default: a new random seed, printed)",
        kind="int",
        flag_name="conformance-seed",
    ),
    Option(
        "cases_cache",
        "folder where a property test that held keeps its generated requests; a later run with"
        " the same seed, budget, profile and contract sends them again instead of generating"
        " them (a failure is generated again, to be shrunk; default: none, always generate)",
        kind="path",
    ),
    Option(
        "implementation_name",
        "the implementation's name, for the certificate (e.g. acme-dodo-mock)",
    ),
    Option("implementation_version", "the implementation's version, for the certificate"),
    Option(
        "allow_live",
        "allow a live target (live.dodopayments.com or a profile of kind live)",
        False,
        "bool",
    ),
    Option(
        "allow_live_charges",
        "on a live target, also run the tests that charge a saved payment method",
        False,
        "bool",
    ),
    Option(
        "max_rps",
        "requests per second at most (default 20 for sandbox and live profiles, unpaced for mocks)",
        kind="float",
    ),
    Option(
        "concurrency",
        "requests in flight at once, for scenario cases that do not depend on one another"
        " (default: chosen from the round trip measured on the first exchanges, for any"
        " target: 16 when it is 20 ms or more, else 1; 1: one at a time)",
        kind="int",
    ),
    Option(
        "max_requests",
        "stop sending after this many requests; later tests are not tested (default: no limit)",
        kind="int",
    ),
    Option(
        "catalog_url",
        "where Allure links requirement IDs to (`#ID` is appended; default: requirements.html,"
        " which scripts/allure-report writes beside the report)",
    ),
    Option(
        "output",
        "full: pytest's usual output (tracebacks, then every failed test); short: none of it,"
        " only the progress and the checkout-conformance summary, for CI logs (--tb=no -rN);"
        " either way the verdict and each failed requirement come last (default full)",
        "full",
        choices=("full", "short"),
        flag_name="conformance-output",
    ),
    Option(
        "suites",
        "folder(s) of scenario YAML files, comma-separated, relative to the rootdir"
        " (default suites)",
        "suites",
        flag_name="conformance-suites",
    ),
    Option(
        "fixtures",
        "folder with bodies.yaml and expectations.yaml (default: fixtures)",
        "fixtures",
        "path",
        flag_name="conformance-fixtures",
    ),
)

LIVE_HOST = "live.dodopayments.com"
# Beside the HTML report's index.html, scripts/allure-report writes the catalog with an anchor
# per requirement; a relative link works wherever the report folder is opened.
DEFAULT_CATALOG_URL = "requirements.html"
DEFAULT_PACED_RPS = 20.0  # half the documented sandbox limit of 40 req/s
# Requests in flight at once against a remote target: enough to hide 200 ms of latency at the
# sandbox's 40 req/s twice over; the pace (--max-rps, 429s) bounds the rate whatever this is.
DEFAULT_REMOTE_CONCURRENCY = 16  # requests in flight when the round trip is worth hiding
OVERLAP_FROM_MS = 20.0  # a round trip this long or longer is worth hiding


def choose_concurrency(round_trip_ms: float | None) -> int:
    """Requests in flight for a measured round trip: overlap hides latency wherever it is (a
    tunnel or port-forward on loopback included); with none to hide, threads only cost CPU."""
    if round_trip_ms is None or round_trip_ms < OVERLAP_FROM_MS:
        return 1
    return DEFAULT_REMOTE_CONCURRENCY


TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class OptionHint:
    """The line pytest adds to a command-line error (`Parser.extra_info`), rendered when the
    error is: `did you mean --target-profile=x?` for each argument that is close to one of
    this suite's options without being one, else where the options are listed."""

    def __init__(self, pluginmanager: pytest.PytestPluginManager) -> None:
        self.pluginmanager = pluginmanager

    def __str__(self) -> str:
        config = self.pluginmanager.get_plugin("pytestconfig")
        params = getattr(config, "invocation_params", None)
        args = [str(arg) for arg in params.args] if params is not None else []
        known = [option.flag for option in OPTIONS] + ["--base-url"]
        hints = []
        for arg in args:
            flag, equals, value = arg.partition("=")
            if not flag.startswith("--") or flag in known:
                continue
            close = closest(flag, known)
            if close:
                hints.append(f"did you mean {close}{equals}{value}? (not {arg})")
        listed = "pytest --help lists every option; this suite's are under 'checkout-conformance'"
        return "; ".join(hints) if hints else listed


def add_options(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    parser.extra_info["checkout-conformance"] = OptionHint(pluginmanager)
    group = parser.getgroup("checkout-conformance", "checkout-conformance (POST /checkouts suite)")
    for option in OPTIONS:
        help_text = f"{option.help}. [env {option.env}, ini {option.ini}]"
        if option.kind == "bool":
            group.addoption(
                option.flag, action="store_true", dest=option.dest, default=None, help=help_text
            )
        else:
            group.addoption(
                option.flag, action="store", dest=option.dest, default=None, help=help_text
            )
        parser.addini(option.ini, help=option.help, type=option.ini_type(), default=None)


def _convert(option: Option, value: Any, origin: str) -> Any:
    if option.kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        raise pytest.UsageError(f"{origin}: expected true or false, got {value!r}")
    if option.kind in ("float", "int"):
        try:
            number = float(value) if option.kind == "float" else int(value)
        except (TypeError, ValueError):
            raise pytest.UsageError(f"{origin}: expected a number, got {value!r}") from None
        if number < 0 or (number == 0 and option.dest != "conformance_seed"):
            raise pytest.UsageError(f"{origin}: must be greater than 0, got {value!r}")
        return number
    if option.choices and str(value) not in option.choices:
        close = closest(str(value), option.choices)
        maybe = f"; did you mean {close!r}?" if close else ""
        raise pytest.UsageError(
            f"{origin}: expected one of {', '.join(option.choices)}, got {value!r}{maybe}"
        )
    return str(value)


def output_style(config: pytest.Config) -> str:
    """`full` or `short` (--conformance-output): how much of pytest's own output to show."""
    return str(resolve(config, next(o for o in OPTIONS if o.name == "output"))[0])


def resolve(config: pytest.Config, option: Option) -> tuple[Any, str]:
    """(value, where it came from) for one option."""
    value = config.getoption(option.dest)
    if value is not None:
        return _convert(option, value, option.flag), option.flag
    if os.environ.get(option.env) is not None:
        return _convert(option, os.environ[option.env], f"${option.env}"), f"${option.env}"
    ini_value = config.getini(option.ini)
    if ini_value not in (None, ""):
        return _convert(option, ini_value, f"ini {option.ini}"), f"ini {option.ini}"
    return option.default, "default"


@dataclass(frozen=True)
class Settings:
    """The effective settings of one run, resolved once at start-up."""

    base_url: str | None  # None: the embedded reference server
    profile: Profile
    certificate_path: Path
    fail_on_should: bool
    request_timeout: float
    suites: tuple[Path, ...]
    fixtures: Path
    api_key_from_env: bool
    examples: int
    seed: int | None  # None: the controller draws one
    implementation_name: str | None = None
    implementation_version: str | None = None
    allow_live: bool = False
    allow_live_charges: bool = False
    max_rps: float | None = None  # None: unpaced
    max_requests: int | None = None
    catalog_url: str = "requirements.html"
    concurrency: int | None = None  # None: chosen from the measured round trip
    cases_cache: Path | None = None  # where generated cases are kept for replay
    # True when the reports went to reports/NAME/ because the run is of one's own scenarios.
    own_reports: bool = False

    @property
    def live(self) -> bool:
        return is_live(self.base_url, self.profile)

    @property
    def failures_dir(self) -> Path:
        """Where each failing exchange is written in full, beside the certificate."""
        return self.certificate_path.parent / "failures"

    @property
    def charges_allowed(self) -> bool:
        return not self.live or self.allow_live_charges

    @property
    def embedded(self) -> bool:
        return self.base_url is None

    @property
    def target_host(self) -> str:
        if self.base_url is None:
            return "embedded reference server (127.0.0.1, ephemeral port)"
        parts = urlsplit(self.base_url)
        return parts.hostname or self.base_url


def is_loopback(base_url: str) -> bool:
    """Whether the target is on this machine (localhost, 127.0.0.0/8, ::1)."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_live(base_url: str | None, profile: Profile) -> bool:
    """A live target: the live host, or a profile that says so."""
    host = urlsplit(base_url).hostname if base_url else None
    return host == LIVE_HOST or profile.kind == "live"


def _path(config: pytest.Config, text: str) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() else Path(config.rootpath) / path


def _invocation_path(config: pytest.Config, text: str) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() else Path(config.invocation_params.dir) / path


SCENARIO_PATTERNS = ("*.yaml", "*.yml", "test_*.py")
REPORTS_DIR = Path("reports")


def reports_dir(suites: Sequence[Path]) -> Path:
    """Where a run's reports go by default: `reports/` for the packaged suite (or part of it),
    `reports/NAME/` for a run of one's own scenarios (NAME: their folders' names), so that such
    a run never replaces the full run's certificate."""
    packaged = _resources.SUITES_DIR.resolve()
    own = [suite for suite in suites if not suite.resolve().is_relative_to(packaged)]
    if not own:
        return REPORTS_DIR
    return REPORTS_DIR / "+".join(suite.stem if suite.is_file() else suite.name for suite in own)


def _check_suite(suite: Path, origin: str) -> None:
    """A suite folder the user named exists, can be read and holds scenario files."""
    where = f"{origin} {suite}"
    if not suite.exists():
        raise pytest.UsageError(f"{where}: no such file or folder")
    if suite.is_file():
        return
    try:
        found = any(next(suite.rglob(pattern), None) for pattern in SCENARIO_PATTERNS)
    except OSError as error:
        raise pytest.UsageError(f"{where}: cannot be read ({error.strerror})") from None
    if not found:
        raise pytest.UsageError(
            f"{where}: holds no scenario files (*.yaml, *.yml) and no property tests"
            " (test_*.py); the format: `checkout-conformance show schema scenario`"
        )


def load_settings(config: pytest.Config) -> Settings:
    resolved = {option.dest: resolve(config, option) for option in OPTIONS}
    values = {dest: value for dest, (value, _origin) in resolved.items()}
    base_url = config.getoption("base_url", default=None) or None
    if base_url is not None:
        parts = urlsplit(base_url)
        if parts.username is not None or parts.password is not None:
            # Not echoed: the URL holds a secret. httpx would also send it as Basic auth in
            # place of the bearer key, and the key would be reported as refused.
            raise pytest.UsageError(
                "--base-url carries credentials (user:password@host); remove them: the API key"
                f" goes in the environment, {API_KEY_ENV}=..., and is sent as"
                " Authorization: Bearer"
            )
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise pytest.UsageError(
                f"--base-url {base_url!r} is not an http(s) URL; give the API root, e.g."
                " https://test.dodopayments.com"
            )
    profile_text = values["conformance_profile"]
    if profile_text is None:
        if base_url is not None:
            raise pytest.UsageError(
                "--base-url needs --target-profile PATH: a profile naming the ids that exist on"
                " that server (the format: `checkout-conformance show schema profile`; an"
                " example: `checkout-conformance show profile reference`)"
            )
        profile_path = _resources.REFERENCE_PROFILE_PATH
    else:
        profile_path = _invocation_path(config, profile_text)
        if not profile_path.is_file():
            raise pytest.UsageError(
                f"--target-profile {profile_text}: no such file ({profile_path})"
            )
    if base_url is not None and not os.environ.get(API_KEY_ENV):
        raise pytest.UsageError(
            f"--base-url {base_url} needs an API key: set {API_KEY_ENV} in the environment"
            " (it is never read from files or the command line)"
        )
    try:
        profile = Profile.load(profile_path)
    except DataFileError as error:
        raise pytest.UsageError(f"bad --target-profile: {error}") from None
    fixtures = _path(config, values["conformance_fixtures"])
    if not fixtures.is_dir():
        fixtures = _resources.FIXTURES_DIR
    suites = tuple(
        _path(config, part.strip())
        for part in str(values["conformance_suites"]).split(",")
        if part.strip()
    )
    suites_origin = resolved["conformance_suites"][1]
    if suites_origin != "default":  # a folder the user named must hold scenarios
        for suite in suites:
            _check_suite(suite, suites_origin)
    allow_live = bool(values["conformance_allow_live"])
    if is_live(base_url, profile) and not allow_live:
        host = urlsplit(base_url).hostname if base_url else None
        what = base_url if host == LIVE_HOST else f"profile {profile.name!r} of kind live"
        raise pytest.UsageError(
            f"refusing to test a live target ({what}): nothing was sent. Test a sandbox"
            " (https://test.dodopayments.com) or a mock; if you really mean the live API, add"
            " --allow-live (charge tests stay off without --allow-live-charges)"
        )
    max_rps = values["conformance_max_rps"]
    if max_rps is None and base_url is not None and profile.kind in ("sandbox", "live"):
        max_rps = DEFAULT_PACED_RPS
    concurrency = values["conformance_concurrency"]
    return Settings(
        base_url=base_url,
        profile=profile,
        certificate_path=(
            _path(config, str(reports_dir(suites) / "certificate.json"))
            if resolved["conformance_certificate"][1] == "default"
            else _invocation_path(config, values["conformance_certificate"])
        ),
        fail_on_should=bool(values["conformance_fail_on_should"]),
        request_timeout=float(values["conformance_request_timeout"]),
        suites=suites,
        fixtures=fixtures,
        api_key_from_env=base_url is not None,
        examples=int(values["conformance_examples"]),
        seed=int(values["conformance_seed"]) if values["conformance_seed"] is not None else None,
        implementation_name=values["conformance_implementation_name"],
        implementation_version=values["conformance_implementation_version"],
        catalog_url=values["conformance_catalog_url"] or DEFAULT_CATALOG_URL,
        allow_live=allow_live,
        allow_live_charges=bool(values["conformance_allow_live_charges"]),
        max_rps=float(max_rps) if max_rps is not None else None,
        max_requests=int(values["conformance_max_requests"])
        if values["conformance_max_requests"]
        else None,
        concurrency=int(concurrency) if concurrency is not None else None,
        cases_cache=(
            _invocation_path(config, values["conformance_cases_cache"])
            if values["conformance_cases_cache"]
            else None
        ),
        own_reports=resolved["conformance_certificate"][1] == "default"
        and reports_dir(suites) != REPORTS_DIR,
    )
