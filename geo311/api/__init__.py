"""Registers the /api/v1 blueprints and the /tiles blueprint."""

from __future__ import annotations

from types import ModuleType

from flask import Flask

__all__ = ["init_app"]


def _register_documented(app: Flask, module: ModuleType) -> None:
    """Register ``module.blueprint`` under /api/v1 and add its routes to the OpenAPI document."""
    from geo311.openapi import OPERATIONS

    app.register_blueprint(module.blueprint, url_prefix="/api/v1")
    OPERATIONS.update(module.OPENAPI_OPERATIONS)


def init_app(app: Flask) -> None:
    """Attach every /api/v1 blueprint to the app."""
    from geo311.api import areas, health, locate, tiles

    app.register_blueprint(health.blueprint, url_prefix="/api/v1")
    app.register_blueprint(areas.blueprint, url_prefix="/api/v1")
    app.register_blueprint(locate.blueprint, url_prefix="/api/v1")
    from geo311.api import requests as requests_api

    app.register_blueprint(requests_api.blueprint, url_prefix="/api/v1")
    from geo311.api import staff
    _register_documented(app, staff)
    from geo311.api import request_updates
    _register_documented(app, request_updates)
    from geo311.api import events
    _register_documented(app, events)
    from geo311 import rate_limit
    rate_limit.init_app(app)
    from geo311 import sessions
    sessions.init_app(app)
    app.register_blueprint(tiles.blueprint, url_prefix="/tiles")
    from geo311.api import hotspots
    _register_documented(app, hotspots)
    from geo311.api import duplicates
    _register_documented(app, duplicates)
    from geo311.api import tracking
    _register_documented(app, tracking)
