"""The app served as `make run` serves it (gunicorn with geo311.gunicorn_conf), over real HTTP:
a long URL gets the app's own JSON error, never gunicorn's HTML page."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import FIXTURES, _free_port

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


@pytest.fixture(scope="module")
def served(fixture_db_url: str):
    """Base URL of gunicorn started with the settings of `make run`, on the fixture database."""
    port = _free_port()
    env = {**os.environ, "GEO311_DATABASE_URL": fixture_db_url,
           "GEO311_DATA_DIR": str(FIXTURES), "GEO311_BOUNDARIES_DIR": str(FIXTURES / "boundaries"),
           "GEO311_SECRET_KEY": "test-only"}
    server = subprocess.Popen(
        [GUNICORN, "-c", "python:geo311.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "geo311:create_app()"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/v1/ping", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def _error(url: str) -> tuple[int, str, object]:
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url, timeout=30)
    reply = caught.value
    return reply.code, reply.headers.get("Content-Type", ""), json.loads(reply.read())


def test_two_thousand_typed_characters_get_a_json_400_not_an_html_414(served):
    """2,000 accented characters are 12,000 bytes percent-encoded: over gunicorn's default line."""
    url = f"{served}/api/v1/locate?q={quote('é' * 2000)}"
    assert len(url) > 8190
    status, content_type, body = _error(url)
    assert status == 400 and content_type.startswith("application/json")
    assert "longer than" in body["error"]


def test_a_url_over_the_apps_limit_is_refused_as_json(served):
    status, content_type, body = _error(f"{served}/api/v1/locate?q={'a' * 70_000}")
    assert status == 414 and content_type.startswith("application/json")
    assert "limit is 65,536" in body["error"]


def test_open311_answers_an_over_long_url_in_its_own_error_shape(served):
    ids = ",".join(["1"] * 40_000)
    status, _, body = _error(f"{served}/open311/v2/requests.json?service_request_id={ids}")
    assert status == 414
    assert body[0]["code"] == 414 and "limit" in body[0]["description"]


def test_an_ordinary_locate_answers_through_the_same_server(served):
    with urllib.request.urlopen(f"{served}/api/v1/locate?lon=-118.25&lat=34.05", timeout=30) as r:
        answer = json.loads(r.read())
    assert (answer["pin"]["lon"], answer["pin"]["lat"]) == (-118.25, 34.05)
