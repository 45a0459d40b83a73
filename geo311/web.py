"""The web blueprint: serves the pages under web/templates and the assets under web/static."""

from __future__ import annotations

from flask import Blueprint, Flask

from geo311.config import PROJECT_ROOT

__all__ = ["init_app"]

blueprint = Blueprint(
    "web",
    __name__,
    template_folder=str(PROJECT_ROOT / "web" / "templates"),
    static_folder=str(PROJECT_ROOT / "web" / "static"),
    static_url_path="/static",
)


def init_app(app: Flask) -> None:
    """Register the web blueprint and the pages of geo311.pages."""
    from geo311 import pages

    app.register_blueprint(blueprint)
    app.register_blueprint(pages.blueprint)
    from geo311 import council
    app.register_blueprint(council.blueprint)
