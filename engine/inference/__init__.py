"""Stages 4-5, decide: from a request to a response.

Owns request parsing, facts, the two evaluators of the compiled rules (durable_rules and the
pure-Python one that also finds missing facts), obligations and their merging, deadlines,
the working-day calendar and `decide()` (decision.py) wiring them together.

May import: engine.catalog, engine.kb and the base modules.
"""
