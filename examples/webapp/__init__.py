"""A reference web host: Starlette over ``AsyncActionabilityService``, served by uvicorn.

    make demo && make web        # http://127.0.0.1:8000 (PORT=8080 make web to change it)

``python -m examples.webapp --help`` lists the options (``--config``, ``--database``,
``--actor``); docs/webapp.md walks through the pages and their tests (tests/web/).
"""
