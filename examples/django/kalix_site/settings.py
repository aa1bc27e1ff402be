"""Settings of the Django example on kalix_accounts.

The database comes from libpq's PG* variables, as the application role logs in:

    PGHOST=localhost PGDATABASE=practice PGUSER=app PGPASSWORD=... \\
        /usr/bin/python3 manage.py runserver

No migrations: the tables are created by SQL (examples/schema.sql), so that
the account column defaults to kalix.current_account() and the table is
isolated; the models are unmanaged.
"""
import os
import secrets

# A random key when none is given: the signed session cookies then last as
# long as the process.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50)
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]

INSTALLED_APPS = ["practice"]

# KalixMiddleware after the session (it reads the login and account from it):
# it opens the request's transaction and identifies inside it.
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "practice.middleware.KalixMiddleware",
]
# The session only holds the login id and the chosen account id; signed
# cookies keep the example free of a session table.
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"

ROOT_URLCONF = "kalix_site.urls"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("PGDATABASE", "practice"),
        "USER": os.environ.get("PGUSER", ""),
        "PASSWORD": os.environ.get("PGPASSWORD", ""),
        "HOST": os.environ.get("PGHOST", ""),
        "PORT": os.environ.get("PGPORT", ""),
        # Persistent connections: a later request, anyone's, gets the same
        # backend, which is why the identity is transaction-local.
        "CONN_MAX_AGE": 60,
        # Not ATOMIC_REQUESTS: Django wraps the view in that transaction, not
        # the middleware, so a middleware that identifies would do so in a
        # transaction of its own that ends at once (kalix.act_as refuses
        # that: no transaction block).  KalixMiddleware opens the
        # transaction itself.
        "ATOMIC_REQUESTS": False,
        # PgBouncer in transaction mode hands every transaction whichever
        # server connection is free.  QuerySet.iterator() declares a server-
        # side cursor, WITH HOLD outside a transaction so that it outlives
        # it; its next fetch may then reach a connection where that cursor
        # does not exist.  Client-side cursors work behind any pooler.
        "DISABLE_SERVER_SIDE_CURSORS": True,
        "OPTIONS": {"connect_timeout": 10},
    }
}
