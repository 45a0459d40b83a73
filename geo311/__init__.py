"""geo311: the location engine and central request store behind Los Angeles 311."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

__version__ = "0.1.0"
__all__ = ["create_app", "__version__"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask application.

    Settings come from :mod:`geo311.config` defaults, then ``GEO311_*`` environment
    variables (plus plain ``DATABASE_URL``), then ``config`` (used by tests).

    :param config: overrides applied last.
    :returns: the configured application; nothing touches the database until a request needs it.
    """
    from geo311 import api, cli, config as config_module, db, errors, open311, openapi, web

    app = Flask(__name__, static_folder=None)
    app.config.from_object(config_module.Defaults)
    config_module.apply_environment(app.config)
    if config:
        app.config.update(config)
    db.init_app(app)
    errors.init_app(app)
    api.init_app(app)
    open311.init_app(app)
    openapi.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    return app
