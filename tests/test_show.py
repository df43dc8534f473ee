"""`checkout-conformance show`: what errors refer to, printed from the installed package."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from checkout_conformance import _resources
from checkout_conformance.catalog import load_catalog
from checkout_conformance.cli import main
from checkout_conformance.engine._bodies import BodyLibrary
from checkout_conformance.show import hint, schema_hint


def test_show_lists_every_requirement_and_prints_one_with_its_source(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["show", "requirements"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in listed] == [r.id for r in load_catalog()]
    assert main(["show", "requirements", "curl-001"]) == 0
    one = capsys.readouterr().out
    assert one.startswith("CURL-001 (MUST, CURL:") and "source: " in one


def test_show_prints_a_body_as_a_scenario_would_send_it_before_the_profile_fills_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["show", "bodies", "confirmed"]) == 0
    text = capsys.readouterr().out
    body = yaml.safe_load(text)  # the comment lines are YAML comments: the rest is the body
    library = BodyLibrary.load(_resources.BODIES_PATH)
    assert body == library.unrendered("confirmed")
    assert body["payment_method_id"] == "${profile.payment_method_id}"


@pytest.mark.parametrize(
    ("argv", "first"),
    [
        (["show", "groups", "rejected_auth"], "# rejected_auth: "),
        (["show", "profile", "reference"], None),
        (["show", "schema", "scenario"], "{"),
        (["show", "schema", "contract"], None),
        (["show", "profile"], "reference\t"),
        (["show", "values"], "valid.customer_name "),
        (["show", "rules"], "RULE-001\tRULE-001\trefused when payment_method_id present"),
        (["show", "rules", "rule-007"], "# RULE-007 (RULE-007), derived from body 'minimal'"),
        (["show", "schema", "rules"], "{"),
        (["show", "values", "look_alikes.country"], "- label: alpha-3-"),
    ],
)
def test_every_topic_answers(
    capsys: pytest.CaptureFixture[str], argv: list[str], first: str | None
) -> None:
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert text.strip()
    if first is not None:
        assert text.startswith(first)


def test_a_rule_shows_its_cases_in_every_value_class(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "rules", "RULE-009"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "# in every value class of custom_fields[].field_type (value_classes):" in lines
    refused = [line for line in lines if line.startswith("refused  class")]
    assert refused == ["refused  class      CustomFieldType-dropdown:deciding"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["show", "bodys"], "no topic 'bodys'; did you mean 'bodies'?"),
        (["show", "bodies", "minmal"], "no body 'minmal'; did you mean 'minimal'?"),
        (["show", "schema", "profil"], "no schema 'profil'; did you mean 'profile'?"),
    ],
)
def test_an_unknown_topic_or_name_gets_a_suggestion_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_errors_name_the_show_command_for_packaged_files_and_the_path_for_a_users_own(
    tmp_path: Path,
) -> None:
    assert hint("bodies", _resources.BODIES_PATH) == "`checkout-conformance show bodies`"
    own = tmp_path / "bodies.yaml"
    assert hint("bodies", own) == str(own)
    assert schema_hint(_resources.PROFILE_SCHEMA_PATH) == (
        "`checkout-conformance show schema profile`"
    )


# -- checkout-conformance report ------------------------------------------------------------
def test_report_without_node_says_what_to_install(tmp_path: Path) -> None:
    from checkout_conformance.report import Allure, ReportError

    with pytest.raises(ReportError) as caught:
        Allure.find(which=lambda program: None, checkout=lambda: None)
    assert "Node.js 20 or newer with npm" in str(caught.value)
    npx = Allure.find(which=lambda program: f"/usr/bin/{program}", checkout=lambda: None)
    assert npx.command[:2] == ("/usr/bin/npx", "--yes")
    assert npx.command[2].startswith("allure@3.")  # the version pinned in tools/allure


def test_report_runs_allure_with_the_packaged_config_then_writes_the_catalog_page(
    tmp_path: Path,
) -> None:
    import subprocess
    from collections.abc import Sequence

    from checkout_conformance.report import CONFIG_PATH, Allure, build_report

    results = tmp_path / "reports" / "allure-results"
    results.mkdir(parents=True)
    (results / "x-result.json").write_text("{}")
    calls: list[tuple[list[str], dict[str, str]]] = []

    def fake_allure(
        command: Sequence[str], env: dict[str, str]
    ) -> subprocess.CompletedProcess[str]:
        calls.append((list(command), env))
        output = Path(command[command.index("-o") + 1])
        output.mkdir(parents=True)
        (output / "index.html").write_text(
            '<head><script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>'
            "<script>gtag('config')</script></head><body>report</body>"
        )
        return subprocess.CompletedProcess(command, 0, "", "")

    index = build_report(
        results, tmp_path / "out", allure=Allure(("allure",), "test"), run=fake_allure
    )
    ((command, env),) = calls
    assert command[:3] == ["allure", "generate", str(results)]
    assert command[-2:] == ["--config", str(CONFIG_PATH.resolve())]
    assert env["CHECKOUT_CONFORMANCE_CERTIFICATE"] == str(tmp_path / "reports" / "certificate.json")
    assert index.read_text() == "<head></head><body>report</body>"  # calls nowhere
    assert "id='CURL-001'" in (index.parent / "requirements.html").read_text()


def test_report_without_results_says_how_to_get_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(tmp_path / "none")]) == 2
    assert "no Allure results in" in capsys.readouterr().err
