"""Who is acting, and in which account: one transaction per request, identified inside it.

The application connects as one database role and acts for many people.
KalixMiddleware opens the request's transaction, tells the database in it
who is signed in and which account they work in (both transaction-local),
and runs the rest of the request, the view included, in that transaction:

    SELECT set_config('kalix.current_login', %s, true);
    SELECT kalix.switch_account(%s, true);

so nothing of one request stays on the (persistent, or pooled) connection
for the next.  Do not use ATOMIC_REQUESTS for this instead: Django opens
that transaction around the view only, after the middleware has run, so the
identity set here would lapse with its own one-statement transaction and
the view would see no login and no rows (see kalix_site/settings.py).
"""

from django.db import DatabaseError, connection, transaction
from django.http import JsonResponse

# The web session's keys: the signed-in login's id, the chosen account's id.
LOGIN = "kalix_login"
ACCOUNT = "kalix_account"


def identify(login, account):
    """Sets the login and the account for the running transaction only ('' for none).

    str(): Django's psycopg2 set-up sends a uuid.UUID as a uuid, and there is
    no set_config(text, uuid, boolean).
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('kalix.current_login', %s, true)",
                       [str(login) if login else ""])
        if account:
            cursor.execute("SELECT kalix.switch_account(%s, true)", [str(account)])
        else:
            cursor.execute("SELECT set_config('kalix.current_account', '', true)")


def forbidden(error):
    """The database's insufficient_privilege (SQLSTATE 42501) as HTTP 403; None for other errors."""
    cause = error.__cause__
    sqlstate = getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)
    if sqlstate != "42501":
        return None
    return JsonResponse({"error": cause.diag.message_primary}, status=403)


class KalixMiddleware:
    """Runs every request in one transaction that first identifies the login and account."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        """The request's transaction: identify, then the view; committed unless something failed."""
        try:
            with transaction.atomic():
                identify(request.session.get(LOGIN), request.session.get(ACCOUNT))
                return self.get_response(request)
        except DatabaseError as e:
            # Not a member (any more) of the session's account: refused, and
            # the session forgets the account, so that the next request (a
            # switch to another account) runs without it.
            response = forbidden(e)
            if response is None:
                raise
            request.session.pop(ACCOUNT, None)
            return response

    def process_exception(self, request, exception):
        """A view that raised: roll the request back; 403 for the database's refusals.

        Django turns a view's exception into a response before it reaches
        __call__, so the transaction must be marked for rollback here.
        """
        transaction.set_rollback(True)
        return forbidden(exception)
