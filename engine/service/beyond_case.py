"""The routes that answer beyond one case, as one router for engine.service.app to include:
the obligations register and the changes (engine.service.register_api: /v1/register, /v1/changes)
and the register page (engine.service.webregister: /register)."""

from __future__ import annotations

from fastapi import APIRouter

from engine.service.register_api import router as register_api_router
from engine.service.webregister import router as webregister_router

router = APIRouter()
router.include_router(register_api_router)
router.include_router(webregister_router)
