// Allure 3 configuration for scripts/allure-report: one self-contained HTML file that opens
// from file:// (no web server needed), grouped by requirement, with the verdict in its name,
// categories that separate MUST failures, SHOULD warnings, not-tested and suite errors, and
// history kept across runs in reports/allure-history.jsonl.
import { existsSync, readFileSync } from "node:fs";

// The run's certificate (scripts/allure-report passes its path): the verdict in the title.
function verdict() {
  const path = process.env.CHECKOUT_CONFORMANCE_CERTIFICATE;
  if (!path || !existsSync(path)) return "";
  const certificate = JSON.parse(readFileSync(path, "utf8"));
  if (certificate.verdict === "broken") return ": broken (the run could not be completed)";
  const must = certificate.summary.MUST;
  return `: ${certificate.verdict} (MUST ${must.passed}/${must.total})`;
}

const name = `POST /checkouts conformance${verdict()}`;

export default {
  name,
  historyPath: process.env.CHECKOUT_CONFORMANCE_ALLURE_HISTORY || "reports/allure-history.jsonl",
  appendHistory: true,
  // Failure messages read "<exception name>: [MUST] CURL-001 · ..." (allure-pytest writes the
  // exception's name first), so the rules below allow that prefix.
  // Labels every test carries that say nothing about it; story repeats the requirement label.
  hideLabels: ["story", "host", "thread", "framework", "language", "package", "parentSuite", "suite", "subSuite", "tag"],
  categories: {
    rules: [
      {
        name: "implementation non-conformant (MUST)",
        matchers: { statuses: ["failed"], message: /^(?:[\w.]+: )?\[MUST\]/ },
        groupBy: [{ label: "requirement" }],
        groupByMessage: false, // every message differs (test id, values): one row per test instead
        expand: true,
      },
      {
        // A warning is a pass with a warning (the test's status is passed, not red).
        name: "SHOULD warnings",
        matchers: { statuses: ["passed", "failed"], message: /^(?:[\w.]+: )?\[(SHOULD|MAY)\]/ },
        groupBy: [{ label: "requirement" }],
        groupByMessage: false,
        expand: true,
      },
      {
        name: "not tested (profile lacks data, budget, preconditions, run stopped)",
        matchers: { statuses: ["skipped"], message: /not (tested|covered)/ },
      },
      {
        name: "suite errors and broken runs",
        matchers: [{ statuses: ["broken"] }, { statuses: ["failed"], message: /^(?!(?:[\w.]+: )?\[(MUST|SHOULD|MAY)\])/ }],
        expand: true,
      },
    ],
  },
  plugins: {
    awesome: {
      options: {
        singleFile: true,
        reportName: name,
        reportLanguage: "en",
        groupBy: ["requirement"],
      },
    },
  },
};
