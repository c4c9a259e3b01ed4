"""The obligations register and what changed between two days, generated from kb/rules/ and catalogs/.

- engine.register.words: the register's Chinese words (kb/register.yaml): triggers, deadlines, origins;
- engine.register.model: `build_register` (every duty a jurisdiction's rules can create on a day);
- engine.register.changes: `build_changes` (duties, catalogue entries and documents, between two days);
- engine.register.formats: text, Markdown, CSV, xlsx and JSON of both.
"""
