"""gunicorn settings of `make run` (``gunicorn -c python:geo311.gunicorn_conf``).

The bind address and the number of workers come from the command line (``GEO311_HOST``,
``GEO311_PORT``, ``GEO311_WORKERS`` in the Makefile); everything else about serving is here, so
the tests serve the app exactly as `make run` does.
"""

#: Threads answer the dispatcher's event stream without holding a whole worker each.
worker_class = "gthread"
threads = 8
timeout = 120
accesslog = "-"
#: No cap on the request line in gunicorn (its default, 4,094 bytes, answers longer URLs with an
#: HTML 414 before the app sees them: 2,000 typed characters are up to 18 KB once
#: percent-encoded). The app refuses what is too long itself, as JSON: a parameter over its own
#: limit with a 400, a URL over ``geo311.errors.MAX_URL_BYTES`` with a 414.
limit_request_line = 0
