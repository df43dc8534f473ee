"""Allure labels and attachments for scenario items (inert when Allure is not recording).

epic = requirement area, feature = scenario file, story = requirement, severity from the level,
tags from the scenario; one link per requirement to its catalog entry; the redacted request,
response and curl line as attachments.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ..catalog import Catalog
from ..redact import Redactor

if TYPE_CHECKING:
    from ._items import ScenarioItem
    from ._runner import CaseRun

SEVERITY = {"MUST": "critical", "SHOULD": "normal", "MAY": "minor"}
CATALOG_LINK = "contracts/requirements.yaml#{id}"


def recording(config: pytest.Config) -> bool:
    return bool(getattr(config.option, "allure_report_dir", None))


def label(item: ScenarioItem, catalog: Catalog) -> None:
    if not recording(item.config):
        return
    import allure

    requirements = [catalog[r] for r in item.scenario.all_requirements()]
    primary = requirements[0]
    allure.dynamic.title(
        f"{item.scenario.title}" + (f" [{item.case.label}]" if item.case.label else "")
    )
    allure.dynamic.description(
        f"{item.scenario.description}\n\nScenario `{item.scenario.id}` at {item.scenario.location}."
        + "".join(f"\n\n**{r.id} ({r.level})**: {r.text}" for r in requirements)
    )
    allure.dynamic.epic(primary.area_title)
    allure.dynamic.feature(item.path.stem)
    allure.dynamic.story(*[f"{r.id}: {r.title}" for r in requirements])
    allure.dynamic.severity(SEVERITY[primary.level])
    allure.dynamic.tag(*item.scenario.tags, *[r.level for r in requirements])
    for requirement in requirements:
        allure.dynamic.label("requirement", requirement.id)
        allure.dynamic.link(
            CATALOG_LINK.format(id=requirement.id), name=requirement.id, link_type="tms"
        )


def attach_run(item: ScenarioItem, run: CaseRun, redactor: Redactor) -> None:
    if not run.steps or not recording(item.config):
        return
    import allure

    for index, step in enumerate(run.steps, start=1):
        suffix = f" (step {index}: {step.step.name})" if len(run.scenario.steps) > 1 else ""
        allure.attach(
            step.exchange.render_request(redactor), f"request{suffix}", allure.attachment_type.TEXT
        )
        allure.attach(
            step.exchange.render_response(redactor),
            f"response{suffix}",
            allure.attachment_type.TEXT,
        )
        allure.attach(step.exchange.curl(redactor), f"curl{suffix}", allure.attachment_type.TEXT)
