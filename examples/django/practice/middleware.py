"""Who is acting, and in which account: one transaction per request, identified inside it.

The application connects as one database role and acts for many people.
KalixMiddleware opens the request's transaction, tells the database in it
who is signed in and which account they work in (both transaction-local),
and runs the rest of the request, the view included, in that transaction:

    SELECT kalix.act_as(%s, %s);

so nothing of one request stays on the (persistent, or pooled) connection
for the next.  Do not use ATOMIC_REQUESTS for this instead: Django opens
that transaction around the view only, after the middleware has run, so
identify() would run in autocommit, where kalix.act_as refuses to run (its
identity would lapse with its own one-statement transaction; see
kalix_site/settings.py).
"""

from django.db import DatabaseError, connection, transaction
from django.http import JsonResponse

# The web session's keys: the signed-in login's id, the chosen account's id.
LOGIN = "kalix_login"
ACCOUNT = "kalix_account"


def identify(login, account):
    """Sets the login and the account for the running transaction only (None for none).

    kalix.act_as checks the login and the membership once; a request
    without a login sets the empty login for the transaction instead.
    str(): Django's psycopg2 set-up sends a uuid.UUID as a uuid.
    """
    with connection.cursor() as cursor:
        if login:
            cursor.execute("SELECT kalix.act_as(%s::uuid, %s::uuid)",
                           [str(login), str(account) if account else None])
        else:
            cursor.execute("SELECT set_config('kalix.current_login', '', true), "
                           "set_config('kalix.current_account', '', true)")


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
