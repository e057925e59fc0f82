"""A minimal Django project that both implementations run under, unchanged.

``BENCH_IMPL`` (``ours`` or ``theirs``) only chooses which ``WEBSOCKETS``
dictionary the settings carry; everything else (apps, middleware, database engine,
DEBUG off) is the same for both.
"""
