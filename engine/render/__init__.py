"""Stage 6, explain: the response rendered for people (the Chinese text) and exports.

May import: engine.inference, engine.catalog, engine.kb and the base modules.
"""
