"""medtech-rules: a knowledge base and inference engine for 医疗技术临床应用管理.

`decide(request) -> response` is the public entry point (see ../shared/contract.md).
"""
from engine.errors import InvalidRequest, KnowledgeBaseError, NotFound

__all__ = ["decide", "InvalidRequest", "KnowledgeBaseError", "NotFound"]


def decide(request: dict) -> dict:
    """Answer one decision request (contract section 3) with a response (section 4)."""
    from engine.decide import decide as _decide

    return _decide(request)
