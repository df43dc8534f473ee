"""The `checkout-conformance` command: serve, contract build, drift, and later additions.

Every failure a person can cause (a bad file, a taken port, a missing operation) ends in one line
on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import __version__
from ._contract_build import ContractBuildError, record_upstream, write_contract
from ._yamlfile import DataFileError, closest

API_KEY_ENV = "DODO_PAYMENTS_API_KEY"

Handler = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """A command was given something it cannot use; the message says what to do instead."""


def _cmd_serve(args: argparse.Namespace) -> int:
    from .profile import Profile
    from .server import DEFAULT_API_KEY, bind_socket, create_app, serve

    key_source = (
        "--api-key" if args.api_key else API_KEY_ENV if os.environ.get(API_KEY_ENV) else None
    )
    api_key = args.api_key or os.environ.get(API_KEY_ENV) or DEFAULT_API_KEY
    profile = Profile.load(Path(args.profile)) if args.profile else None
    app: Any = create_app(
        api_key=api_key,
        profile=profile,
        rate_limit=args.rate_limit,
        max_body_bytes=args.max_body_bytes,
    )
    latency_ms = args.latency_ms
    if args.variant or args.mutant:
        from .selfcheck import MUTANTS, VARIANTS, Rewrite

        if args.variant and args.variant not in VARIANTS:
            raise UsageError(_unknown("--variant", args.variant, list(VARIANTS)))
        if args.mutant and args.mutant not in MUTANTS:
            raise UsageError(_unknown("--mutant", args.mutant, list(MUTANTS)))
        if args.variant:
            variant = VARIANTS[args.variant]
            app = Rewrite(after=variant.after, before=variant.before, config=app.config)
            latency_ms = latency_ms or variant.latency_ms
        else:
            mutant = MUTANTS[args.mutant]
            app = Rewrite(after=mutant.after, before=mutant.before, config=app.config)
    if latency_ms < 0:
        raise UsageError(f"--latency-ms must be 0 or more, got {latency_ms:g}")
    if latency_ms:
        from .server import Delayed

        app = Delayed(app, latency_ms / 1000)
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}"
            " (choose another --port, or 0 for any free port)"
        ) from None
    host, port = sock.getsockname()[:2]
    shown_host = f"[{host}]" if ":" in host else host
    key_note = (
        f"API key from {key_source}"
        if key_source
        else f"API key {DEFAULT_API_KEY} (the documented test key)"
    )
    limits = ", rate limits emulated" if args.rate_limit else ""
    limits += f", {args.latency_ms:g} ms added to each answer" if args.latency_ms else ""
    print(f"listening on http://{shown_host}:{port} ({key_note}{limits})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        serve(app, sock, stop_on_stdin_eof=args.stop_on_stdin_eof, log_level=args.log_level)
    return 0


def _cmd_contract_build(args: argparse.Namespace) -> int:
    from ._contract_build import build_contract_text
    from ._resources import CONTRACT_PATH

    if args.upstream:
        record = record_upstream(Path(args.upstream), origin=args.origin or "")
        print(f"recorded upstream {record.file} (OpenAPI {record.version}, sha256 {record.sha256})")
    if args.check:
        return _check_generated(CONTRACT_PATH, build_contract_text(), "contract build")
    changed = write_contract()
    print(f"{CONTRACT_PATH}: {'rewritten' if changed else 'unchanged'}")
    return 0


def _check_generated(path: Path, expected: str, command: str) -> int:
    """`--check` of a generated file: 0 when it is what its sources give, else 1 and the
    command that rewrites it."""
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if current != expected:
        print(f"{path}: out of date; run `checkout-conformance {command}`", file=sys.stderr)
        return 1
    print(f"{path}: up to date")
    return 0


def _cmd_values_build(args: argparse.Namespace) -> int:
    try:
        from ._values_build import VALUES_PATH, build_values_text, write_values
    except ImportError as exc:
        raise UsageError(
            f"values build needs the development extra ({exc.name} is missing):"
            " pip install -e '.[dev]'"
        ) from None
    if args.check:
        return _check_generated(VALUES_PATH, build_values_text(), "values build")
    print(f"{VALUES_PATH}: {'rewritten' if write_values() else 'unchanged'}")
    return 0


def _cmd_drift(args: argparse.Namespace) -> int:
    from .drift import drift

    changes = drift(Path(args.new_upstream), Path(args.against) if args.against else None)
    if not changes:
        print("no change to POST /checkouts")
        return 0
    print(f"{len(changes)} change(s) to POST /checkouts:")
    for line in changes:
        print(f"  {line}")
    return 1


def _read_json(path: Path) -> Any:
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(f"{path}: not JSON: {exc}") from None


def _read_key(option: str, path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot read: {exc.strerror or exc}") from None


def _cmd_certificate_verify(args: argparse.Namespace) -> int:
    from .certificate import SigningError, tests_path, verify

    path = Path(args.path)
    document = _read_json(path)
    if not isinstance(document, dict) or "certificate_version" not in document:
        raise UsageError(f"{path}: not a checkout-conformance certificate")
    public_key = _read_key("--public-key", args.public_key) if args.public_key else None
    try:
        problems = verify(document, public_key=public_key, tests_file=tests_path(path))
    except SigningError as exc:
        raise UsageError(f"--public-key {args.public_key}: {exc}") from None
    if problems:
        print(f"{path}: NOT verified ({len(problems)} problem(s)):")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    signature = document["integrity"].get("signature")
    signed = (
        " signed by the key given"
        if public_key is not None
        else " signed (check who signed it with --public-key)"
        if signature
        else " not signed"
    )
    unsigned = "" if signature else ": anyone can rewrite an unsigned certificate and its digest"
    print(
        f"{path}: verified - {document['verdict']} for {document['implementation']['host']};"
        f" content digest matches;{signed}{unsigned}; the contract, catalog and packaged"
        " scenarios match this suite's; verdict consistent with its results"
    )
    return 0


def _cmd_certificate_sign(args: argparse.Namespace) -> int:
    import json

    from .certificate import SigningError, content_digest, sign

    path = Path(args.path)
    document = _read_json(path)
    if document.get("integrity", {}).get("sha256") != content_digest(document):
        raise UsageError(f"{path}: changed after it was written; refusing to sign it")
    try:
        sign(document, _read_key("--private-key", args.private_key))
    except SigningError as exc:
        raise UsageError(f"--private-key {args.private_key}: {exc}") from None
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(
        f"{path}: signed (verify with: checkout-conformance certificate verify {path}"
        " --public-key PUBLIC.pem)"
    )
    return 0


def _cmd_catalog(args: argparse.Namespace) -> int:
    from .catalog import load_catalog

    catalog = load_catalog()
    if args.html:
        path = Path(args.html)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(catalog.html(), encoding="utf-8")
        print(f"catalog: {path} ({len(catalog)} requirements)")
        return 0
    for requirement in catalog:
        print(f"{requirement.id}\t{requirement.level}\t{requirement.text}")
    return 0


def _cmd_certificate_keygen(args: argparse.Namespace) -> int:
    from .certificate import generate_key

    private_path, public_path = Path(f"{args.prefix}.pem"), Path(f"{args.prefix}.pub.pem")
    for existing in (private_path, public_path):
        if existing.exists():
            raise UsageError(f"{existing} exists; choose another prefix")
    private, public = generate_key()
    private_path.touch(mode=0o600)
    private_path.write_bytes(private)
    public_path.write_bytes(public)
    print(f"private key: {private_path} (keep it secret); public key: {public_path}")
    return 0


def _unknown(option: str, name: str, known: list[str]) -> str:
    """`unknown --mutant 'x'; did you mean 'y'?`, then every known name."""
    close = closest(name, known)
    hint = f"; did you mean {close!r}?" if close else ""
    return f"unknown {option} {name!r}{hint} (known: {', '.join(known)})"


def _cmd_selfcheck(args: argparse.Namespace) -> int:
    import json

    from . import selfcheck
    from .selfcheck import MUTANTS, VARIANTS

    known = ["reference", *VARIANTS, *MUTANTS]
    for name in args.only or []:
        if name not in known:
            raise UsageError(_unknown("--only", name, known))
    started = time.perf_counter()
    outcomes = selfcheck.run_all(
        jobs=args.jobs, examples=args.examples, seed=args.seed, names=args.only, full=args.full
    )
    matrix = selfcheck.kill_matrix(outcomes, args.examples, args.seed, full=args.full)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(matrix, indent=2) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text(selfcheck.markdown(matrix), encoding="utf-8")
    for outcome in outcomes:
        mark = "ok  " if outcome.ok else "FAIL"
        name = f"{outcome.kind} {outcome.name}"
        print(f"{mark} {name:<55} exit {outcome.exit_code}  {outcome.seconds:>5.1f}s")
    print(
        f"mutation score {matrix['killed']}/{matrix['mutants']};"
        f" survivors: {matrix['survivors'] or 'none'};"
        f" variants tolerated: {matrix['variants_tolerated']}; reference conformant:"
        f" {matrix['reference_conformant']} ({time.perf_counter() - started:.0f} s)"
    )
    print(f"kill matrix: {out.with_suffix('.md')} and {out.with_suffix('.json')}")
    return 0 if all(outcome.ok for outcome in outcomes) else 1


def _cmd_show(args: argparse.Namespace) -> int:
    from .show import ShowError, show

    try:
        print(show(args.topic, args.name))
    except ShowError as exc:
        raise UsageError(f"show {args.topic}: {exc}") from None
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import Allure, ReportError, build_report, require_results

    try:
        require_results(Path(args.results))
        allure = Allure.find()
        print(f"building the HTML report with {allure.how}", file=sys.stderr, flush=True)
        index = build_report(
            Path(args.results),
            Path(args.output),
            Path(args.certificate) if args.certificate else None,
            allure=allure,
        )
    except ReportError as exc:
        raise UsageError(str(exc)) from None
    print(f"report: {index} (requirements: {index.parent / 'requirements.html'})")
    return 0


def _cmd_scan_secrets(args: argparse.Namespace) -> int:
    from .redact import scan

    secret = os.environ.get(args.env)
    if not secret:
        raise UsageError(
            f"${args.env} is not set: nothing to look for (set it, or name another with --env)"
        )
    paths = [Path(path) for path in args.paths]
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    hits = scan(paths, secret)
    for path, line, form in hits:
        print(f"{path}:{line}: the key (${args.env}, {form})")
    print(f"{len(hits)} occurrence(s) of ${args.env} in {', '.join(args.paths)}")
    return 1 if hits else 0


def _cmd_run(args: argparse.Namespace) -> int:
    """The suite from wherever the package is installed: no checkout, no conftest needed."""
    import pytest

    from . import _resources
    from .engine._settings import SCENARIO_PATTERNS, reports_dir

    suites = [Path(suite).expanduser().resolve() for suite in args.suite or []]
    for suite in suites:
        if not suite.exists():
            raise UsageError(f"--suite {suite}: no such file or folder")
        if suite.is_dir() and not any(next(suite.rglob(p), None) for p in SCENARIO_PATTERNS):
            raise UsageError(
                f"--suite {suite}: holds no scenario files (*.yaml, *.yml) and no property"
                " tests (test_*.py); see `checkout-conformance run --help` and the README's"
                " scenario format"
            )
    if not suites or args.include_packaged:
        suites.insert(0, _resources.SUITES_DIR)
    pytest_args = [
        "-p",
        "checkout_conformance.engine.plugin",
        f"--rootdir={Path.cwd()}",
        f"--conformance-suites={','.join(map(str, suites))}",
        *_default_reports(args.pytest_args, reports_dir(suites)),
        *map(str, suites),
        *args.pytest_args,
    ]
    return int(pytest.main(pytest_args))


def _default_reports(given: list[str], folder: Path) -> list[str]:
    """The reports `scripts/conformance` writes in a checkout, in ./reports (./reports/NAME for
    one's own scenarios), unless the user names their own: JUnit and Allure results beside the
    certificate."""
    defaults = []
    if not any(arg.startswith(("--junitxml", "--junit-xml")) for arg in given):
        defaults.append(f"--junitxml={folder / 'junit.xml'}")
    if not any(arg.startswith("--alluredir") for arg in given):
        defaults.append(f"--alluredir={folder / 'allure-results'}")
    return defaults


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="checkout-conformance",
        description="Conformance suite for the Dodo Payments POST /checkouts endpoint.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the reference server")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument(
        "--port", type=int, default=8000, help="port (default 8000; 0 = any free port)"
    )
    serve.add_argument(
        "--api-key",
        help=f"the one valid bearer key (default: ${API_KEY_ENV}, else the documented test key)",
    )
    serve.add_argument(
        "--profile", help="seed data from this profile (default: the reference profile)"
    )
    serve.add_argument(
        "--rate-limit", action="store_true", help="emulate the documented rate limits (429s)"
    )
    serve.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="wait this long before each answer, as a remote target would (default 0)",
    )
    serve.add_argument(
        "--max-body-bytes",
        type=int,
        default=1024 * 1024,
        help="larger bodies get 413 (default 1 MiB)",
    )
    broken = serve.add_mutually_exclusive_group()
    broken.add_argument(
        "--variant", help="serve a tolerated variant of the reference server (self-certification)"
    )
    broken.add_argument(
        "--mutant", help="serve a deliberately broken reference server (self-certification)"
    )
    serve.add_argument(
        "--log-level", default="warning", choices=["debug", "info", "warning", "error"]
    )
    serve.add_argument(
        "--stop-on-stdin-eof",
        action="store_true",
        help="exit when standard input closes (for harnesses that start the server)",
    )
    serve.set_defaults(handler=_cmd_serve)

    contract = commands.add_parser(
        "contract", help="build or check contracts/checkouts.openapi.yaml"
    )
    contract_commands = contract.add_subparsers(
        dest="contract_command", required=True, metavar="ACTION"
    )
    build = contract_commands.add_parser(
        "build", help="derive the contract from upstream + overlay"
    )
    build.add_argument("--upstream", help="record this newer upstream OpenAPI document first")
    build.add_argument("--origin", help="where the new upstream document came from (recorded)")
    build.add_argument(
        "--check", action="store_true", help="only check the committed contract is current"
    )
    build.set_defaults(handler=_cmd_contract_build)

    values = commands.add_parser(
        "values", help="build or check fixtures/values.yaml (valid values and look-alikes)"
    )
    values_commands = values.add_subparsers(dest="values_command", required=True, metavar="ACTION")
    values_build = values_commands.add_parser(
        "build",
        help="draw the value classes from Faker, phonenumbers, pycountry and python-stdnum",
    )
    values_build.add_argument(
        "--check", action="store_true", help="only check the committed file is current"
    )
    values_build.set_defaults(handler=_cmd_values_build)

    drift = commands.add_parser(
        "drift", help="what changed for POST /checkouts in a newer upstream OpenAPI document"
    )
    drift.add_argument(
        "new_upstream", metavar="NEW_UPSTREAM", help="the newer OpenAPI document (JSON or YAML)"
    )
    drift.add_argument(
        "--against", help="compare with this document instead of the recorded upstream"
    )
    drift.set_defaults(handler=_cmd_drift)
    selfcheck = commands.add_parser(
        "selfcheck", help="run the suite against every mutant and variant: the kill matrix"
    )
    selfcheck.add_argument("--jobs", type=int, default=2, help="suite runs at a time (default 2)")
    selfcheck.add_argument("--examples", type=int, default=150, help="property examples per run")
    selfcheck.add_argument("--seed", type=int, default=20261126, help="property seed for every run")
    selfcheck.add_argument("--only", nargs="+", metavar="NAME", help="only these mutants/variants")
    selfcheck.add_argument(
        "--full",
        action="store_true",
        help="run the whole suite against every mutant (default: the scenarios first, the whole"
        " suite only for mutants they do not kill); lists every killing test",
    )
    selfcheck.add_argument(
        "--out", default="reports/kill-matrix", help="report path without suffix"
    )
    selfcheck.set_defaults(handler=_cmd_selfcheck)

    catalog = commands.add_parser(
        "catalog", help="list the requirements, or write them as HTML with an anchor per id"
    )
    catalog.add_argument("--html", metavar="PATH", help="write the catalog as one HTML page")
    catalog.set_defaults(handler=_cmd_catalog)

    run = commands.add_parser(
        "run",
        help="run the conformance suite (the packaged one, or your own scenario folders)",
        description="Runs the suite with pytest from any folder: reports go to ./reports,"
        " settings are the suite's pytest options (--base-url, --target-profile, ...), and"
        " the exit status is pytest's (0 conformant or warnings only, 1 a MUST failed,"
        " 3 the run broke, 4 a usage error). Every other argument goes to pytest, e.g."
        " --base-url=... --target-profile=... -k AUTH.",
        usage="checkout-conformance run [--suite PATH]... [--include-packaged] [PYTEST_ARGS]",
    )
    run.add_argument(
        "--suite",
        action="append",
        metavar="PATH",
        help="a folder (or file) of your own scenarios; repeat for more (default: the packaged"
        " suite)",
    )
    run.add_argument(
        "--include-packaged",
        action="store_true",
        help="with --suite: run the packaged suite too",
    )
    run.set_defaults(handler=_cmd_run, takes_pytest_args=True)

    report = commands.add_parser(
        "report",
        help="build the HTML report (Allure 3, one file) from a run's Allure results",
        description="One self-contained HTML report that opens from file://, grouped by"
        " requirement, with the verdict in its title. Needs Node.js 20+ (Allure 3 runs through"
        " npx, the version pinned by this package).",
    )
    report.add_argument(
        "results",
        metavar="RESULTS_DIR",
        nargs="?",
        default="reports/allure-results",
        help="the Allure results of a run (default: reports/allure-results)",
    )
    report.add_argument(
        "-o",
        "--output",
        default="reports/allure-report",
        help="the report folder (default: reports/allure-report)",
    )
    report.add_argument(
        "--certificate",
        metavar="PATH",
        help="the run's certificate, for the verdict (default: certificate.json beside the"
        " results)",
    )
    report.set_defaults(handler=_cmd_report)

    from .show import TOPICS

    show = commands.add_parser(
        "show",
        help=f"print what errors refer to: {', '.join(TOPICS)}",
        description="Prints the suite's data files from the installed package: the requirement"
        " catalog, the named request bodies and expectation groups scenarios use, the value"
        " classes, the rules' decisions and the cases derived from them, the bundled profiles,"
        " and the JSON Schemas of every file format (and the contract). Without NAME, the list;"
        " with NAME, that entry.",
    )
    show.add_argument("topic", metavar="TOPIC", help=f"one of: {', '.join(TOPICS)}")
    show.add_argument("name", metavar="NAME", nargs="?", help="one entry (default: the list)")
    show.set_defaults(handler=_cmd_show)

    scan = commands.add_parser(
        "scan-secrets", help="look for the API key (and its encoded forms) in reports and logs"
    )
    scan.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (e.g. reports)")
    scan.add_argument(
        "--env", default=API_KEY_ENV, help=f"the variable holding the key ({API_KEY_ENV})"
    )
    scan.set_defaults(handler=_cmd_scan_secrets)

    certificate = commands.add_parser("certificate", help="work with conformance certificates")
    certificate_commands = certificate.add_subparsers(
        dest="certificate_command", required=True, metavar="ACTION"
    )
    verify = certificate_commands.add_parser(
        "verify", help="re-check a certificate: schema, hashes against this checkout, verdict"
    )
    verify.add_argument("path", metavar="PATH", help="the certificate JSON file")
    verify.add_argument(
        "--public-key", metavar="PEM", help="require a valid Ed25519 signature by this key"
    )
    verify.set_defaults(handler=_cmd_certificate_verify)
    sign = certificate_commands.add_parser(
        "sign", help="sign a certificate's digest with an Ed25519 private key (PEM)"
    )
    sign.add_argument("path", metavar="PATH", help="the certificate JSON file (signed in place)")
    sign.add_argument("--private-key", metavar="PEM", required=True, help="the signing key")
    sign.set_defaults(handler=_cmd_certificate_sign)
    keygen = certificate_commands.add_parser(
        "keygen", help="make an Ed25519 key pair: PREFIX.pem (private) and PREFIX.pub.pem"
    )
    keygen.add_argument("prefix", metavar="PREFIX", help="path prefix of the two files")
    keygen.set_defaults(handler=_cmd_certificate_keygen)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if getattr(args, "takes_pytest_args", False):
        args.pytest_args = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    handler: Handler = args.handler
    try:
        return handler(args)
    except BrokenPipeError:  # `checkout-conformance catalog | head`: the reader left, fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (UsageError, DataFileError, ContractBuildError) as exc:
        print(f"checkout-conformance: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
