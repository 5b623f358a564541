"""WSGI entry point: ``gunicorn batchsite.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "batchsite.settings")

application = get_wsgi_application()
