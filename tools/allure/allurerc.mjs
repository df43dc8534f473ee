// Allure 3 configuration for scripts/allure-report: one self-contained HTML file that opens
// from file:// (no web server needed), with the suite's name.
export default {
  name: "POST /checkouts conformance",
  plugins: {
    awesome: {
      options: {
        singleFile: true,
        reportName: "POST /checkouts conformance",
        reportLanguage: "en",
      },
    },
  },
};
