"""Activates the checkout-conformance pytest plugin for this repository only.

Installing the package changes no other pytest session: the plugin is loaded here, by name,
for runs rooted in this checkout (`pytest` runs the suite in `suites/`; `pytest tests` runs the
project's own tests).
"""

pytest_plugins = ["checkout_conformance.engine.plugin"]
