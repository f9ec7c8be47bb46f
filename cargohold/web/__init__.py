"""The web UI of the catalog and lineage, its JSON API, and the data proxy, in one ASGI app.

* :func:`create_app`: the Starlette application of a hold (mount it anywhere: ``cargohold
  serve`` serves it at ``/``, the Airflow plugin mounts it in Airflow's API server).
* :class:`WebServer`: the application on uvicorn, on a thread or in the foreground.
* :class:`WebSettings`: token, links into the Airflow and Dagster UIs, preview limits.

Needs the ``web`` extra (``pip install 'cargohold[web]'``: Starlette, uvicorn, Jinja2).
"""

from cargohold.web.app import WebSettings, create_app
from cargohold.web.server import WebServer

__all__ = ["WebServer", "WebSettings", "create_app"]
