"""JUnit XML that agrees with the verdict, for CI dashboards.

pytest's `--junitxml` writes what pytest saw: a SHOULD warning as a `<failure>` (a red job that
exited 0), a class name made of the file path (`suites.auth.authentication.yaml`, which
dashboards split into a class called `yaml`) and the node id as the test name. Once pytest has
written the file, the plugin rewrites the conformance tests in it (other test cases are left as
they are):

- `classname` is `checkouts.<area>.<file>` (`checkouts.auth.authentication`);
- `name` is the ids of the requirements the test is written for, its title and the case
  (`AUTH-001: no Authorization header is refused [lower-case]`), so the ids show wherever a
  dashboard shows a test;
- a test whose only failures are warnings (SHOULD without `--fail-on-should`, MAY) is written
  as passed, with a `conformance_outcome` property of `warned`, one `warning` property per
  finding and the findings in `<system-out>`, which dashboards show as passed with output;
- the `requirement` properties stay, one per requirement the test checks.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from ..records import Record

SUITE_PREFIX = "checkouts"


# Characters XML 1.0 does not allow (and DEL), which pytest's junitxml writes as `#xHH`
# (its visual escape, the same ranges): a case label with a control character must still be
# found under the name pytest gave it.
_NOT_IN_XML = re.compile(
    "[^\u0009\u000a\u000d\u0020-\u007e\u0080-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def _visually_escaped(text: str) -> str:
    return _NOT_IN_XML.sub(
        lambda m: (
            f"#x{ord(m.group()):02X}" if ord(m.group()) <= 0xFF else f"#x{ord(m.group()):04X}"
        ),
        text,
    )


def _pytest_address(nodeid: str) -> tuple[str, str]:
    """The (classname, name) pytest's junitxml gives a node id (its documented mangling)."""
    path, bracket, params = _visually_escaped(nodeid).partition("[")
    names = path.split("::")
    names[0] = re.sub(r"\.py$", "", names[0].replace("/", "."))
    names[-1] += bracket + params
    return ".".join(names[:-1]), names[-1]


def classname(nodeid: str) -> str:
    """`checkouts.<area>.<file>`: the file's folder under the suite, then the file's stem."""
    file_part = PurePosixPath(nodeid.split("::", 1)[0])
    parts = [p for p in file_part.with_suffix("").parts if p not in ("suites", ".", "..")]
    parts = [p.removeprefix("test_") for p in parts[-2:]]
    return ".".join([SUITE_PREFIX, *parts])


def case_name(record: Record) -> str:
    """The ids it is written for, the title and the case, e.g. `ACC-004: ... [EUR]`."""
    ids = ", ".join(record.get("written_for") or record["requirements"]) or "no requirement"
    title = record.get("title") or record["test"].rsplit("::", 1)[-1]
    label = record["test"].partition("[")[2].removesuffix("]")
    return f"{ids}: {title}" + (f" [{label}]" if label and label not in title else "")


def rewrite(path: Path, records: Iterable[Record], certificate: Mapping[str, Any]) -> None:
    """Rewrite the test cases of `records` in the JUnit file at `path` (see the module doc);
    for a run that broke, add one test case with an `<error>` that says why."""
    by_address = {_pytest_address(record["test"]): record for record in records}
    tree = ET.parse(path)
    for case in tree.iter("testcase"):
        record = by_address.get((case.get("classname", ""), case.get("name", "")))
        if record is None:
            continue
        case.set("classname", classname(record["test"]))
        case.set("name", _visually_escaped(case_name(record)))
        if record["failures"] and not record["blocking"]:
            _as_warning(case, record)
    if certificate.get("broken"):
        _add_broken_case(tree.getroot(), str(certificate["broken"]))
    for suite in tree.iter("testsuite"):
        cases = list(suite.iter("testcase"))
        for kind in ("failure", "error"):
            attribute = f"{kind}s" if kind == "failure" else "errors"
            if suite.get(attribute) is not None:
                suite.set(attribute, str(sum(1 for c in cases if c.find(kind) is not None)))
        suite.set("tests", str(len(cases)))
    tree.write(path, encoding="utf-8", xml_declaration=True)


def _add_broken_case(root: ET.Element, reason: str) -> None:
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    if suite is None:
        suite = ET.SubElement(root, "testsuite", name="checkout-conformance")
    case = ET.SubElement(suite, "testcase", classname=f"{SUITE_PREFIX}.run", name="the run")
    error = ET.SubElement(case, "error", message=f"the run broke: {reason}")
    error.text = f"the run broke: {reason}\nverdict: broken (nothing is certified)"


def _as_warning(case: ET.Element, record: Record) -> None:
    for failure in case.findall("failure"):
        case.remove(failure)
    properties = case.find("properties")
    if properties is None:
        properties = ET.SubElement(case, "properties")
        case.remove(properties)
        case.insert(0, properties)
    ET.SubElement(properties, "property", name="conformance_outcome", value="warned")
    lines = []
    for finding in record["failures"]:
        text = _visually_escaped(f"{finding['requirement']}: {finding['reason']}")
        ET.SubElement(properties, "property", name="warning", value=text)
        lines.append(f"WARNING {text}")
    out = case.find("system-out")
    if out is None:
        out = ET.SubElement(case, "system-out")
    out.text = "\n".join([*lines, out.text or ""]).strip() + "\n"
