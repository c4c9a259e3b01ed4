"""Stage 1-2, load and validate: the knowledge base in kb/.

Owns the documents (verbatim provisions), the vocabulary, the JSON Schemas and their
generation from the vocabulary, the rules as data with their condition language and its
compilation, document validity, coverage (lenient and strict, coverage.py) and the narrower-citation
warning (narrowest.py), and `knowledge_base()` (loader.py), which builds the
validated, compiled knowledge base once per process.

May import: the base modules (engine.errors, engine.paths, engine.yamlio, engine.jsonout).
"""
