"""The web application (gunicorn `config.wsgi:application`; runserver loads it too, through
WSGI_APPLICATION).

Only the web processes import this module, so what is set here holds for them alone: each
database connection they open gets `statement_timeout = DB_STATEMENT_TIMEOUT` (PostgreSQL), and
one runaway query of a request is cancelled (a 500 page) instead of holding a worker. Celery
workers and management commands never import it and keep PostgreSQL's default (no limit).
"""

import os

from django.core.wsgi import get_wsgi_application
from django.db.backends.signals import connection_created

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def limit_statements(sender, connection, **kwargs) -> None:
    """On each new connection of a web process: the web's statement timeout (session-wide,
    so it outlives the transactions of a persistent connection)."""
    from django.conf import settings

    timeout = settings.DB_STATEMENT_TIMEOUT
    if connection.vendor == "postgresql" and timeout:
        with connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(timeout)}")


connection_created.connect(limit_statements, dispatch_uid="config.wsgi.limit_statements")
application = get_wsgi_application()
