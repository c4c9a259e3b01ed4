"""The routes that answer beyond one case, as one router for engine.service.app to include:
the obligations register and the changes (engine.service.register_api: /v1/register, /v1/changes)
the register page (engine.service.webregister: /register) and the ledger page (engine.service.webledger: /ledger)."""

from __future__ import annotations

from fastapi import APIRouter

from engine.service.register_api import router as register_api_router
from engine.service.webledger import router as webledger_router
from engine.service.webregister import router as webregister_router

router = APIRouter()
router.include_router(register_api_router)
router.include_router(webregister_router)
router.include_router(webledger_router)
