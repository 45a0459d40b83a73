"""Registers the /api/v1 blueprints and the /tiles blueprint."""

from __future__ import annotations

from flask import Flask

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    """Attach every /api/v1 blueprint to the app."""
    from geo311.api import areas, health, locate, tiles

    app.register_blueprint(health.blueprint, url_prefix="/api/v1")
    app.register_blueprint(areas.blueprint, url_prefix="/api/v1")
    app.register_blueprint(locate.blueprint, url_prefix="/api/v1")
    from geo311.api import requests as requests_api

    app.register_blueprint(requests_api.blueprint, url_prefix="/api/v1")
    from geo311.api import staff
    staff.register(app)
    from geo311.api import request_updates
    request_updates.register(app)
    from geo311.api import events
    events.register(app)
    from geo311 import rate_limit
    rate_limit.init_app(app)
    from geo311 import sessions
    sessions.init_app(app)
    app.register_blueprint(tiles.blueprint, url_prefix="/tiles")
    from geo311.api import hotspots
    hotspots.register(app)
    from geo311.api import duplicates
    duplicates.register(app)
    from geo311.api import tracking
    tracking.register(app)
