"""The YAML scenario engine and its pytest plugin (`checkout_conformance.engine.plugin`).

Data flows one way: scenario file (`_model`) + profile + contract → expanded cases (`_expand`) →
rendered requests (`_template`, `_bodies`, `_http`) → responses → expectations (`_matchers`) →
pytest items and records (`_items`) → verdict and certificate (`plugin`, `..certificate`).
"""
