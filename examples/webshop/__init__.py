"""A small server-rendered shop over the bundled example store (FastAPI + Jinja2).

Run it with ``personalize demo --web`` (``pip install 'personalize[demo]'``); build it in
your own code with :func:`create_app`.
"""

from .app import create_app

__all__ = ["create_app"]
