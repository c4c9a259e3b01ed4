"""The HTTP service (FastAPI): app.py wires the routes; OpenAPI, request input, errors,
middleware, the engine worker thread and the read-only resources each have their module.

May import every stage below it (render, flowchart, inference, catalog, kb, base); nothing
imports it but the CLI's `serve`.
"""
