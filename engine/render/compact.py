"""The compact forms of a decision response (`?quotes=once|none` on the HTTP service).

A response quotes each provision it cites in full, wherever it cites it (`citations`,
`deadline.citations`, `materials`, `consequences`, `trace`): the same quote can appear a dozen
times. `once` moves every quote to a top-level `provisions` map keyed `document:eid`
({document, eid, label, quote}, in order of first citation) and drops it from the citations;
`none` drops the quotes altogether (callers fetch them from /v1/documents/…/provisions/…).
`all` (the default) leaves the response as it is. Everything else is unchanged.
"""

from __future__ import annotations

QUOTE_MODES = ("all", "once", "none")


def compact_quotes(response: dict, mode: str = "all") -> dict:
    """`response` in the form `mode` (module docstring); a new dict, the argument is left as it is."""
    if mode == "all":
        return response
    if mode not in QUOTE_MODES:
        raise ValueError(f"quotes must be one of {', '.join(QUOTE_MODES)} (got {mode!r})")
    provisions: dict[str, dict] = {}

    def walk(node):
        if isinstance(node, dict):
            if "quote" in node and "document" in node and "eid" in node:
                key = f"{node['document']}:{node['eid']}"
                if key not in provisions:
                    provisions[key] = {
                        "document": node["document"],
                        "eid": node["eid"],
                        "label": node.get("label"),
                        "quote": node["quote"],
                    }
                return {k: walk(v) for k, v in node.items() if k != "quote"}
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    out = walk(response)
    if mode == "once":
        out["provisions"] = provisions
    return out
