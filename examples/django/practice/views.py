"""Request handlers: each runs inside KalixMiddleware's transaction, already identified.

The account functions are called with SQL, the application's tables through
the ORM; row-level security picks the rows.  The database's refusals
(SQLSTATE 42501) become 403 in the middleware.
"""

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .middleware import ACCOUNT, LOGIN
from .models import AppointmentType, Patient, nearest_appointment_types


def scalar(sql, params=()):
    """The first column of the first row of a query."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def as_text(value):
    """A uuid (or None) as JSON can carry it."""
    return None if value is None else str(value)


@require_POST
def sign_up(request):
    """Creates a login for a new user and signs the session in as it."""
    login = scalar("SELECT kalix.create_login(%s, %s)",
                   [request.POST["email"], request.POST.get("name")])
    request.session.flush()
    request.session[LOGIN] = str(login)
    return JsonResponse({"login": str(login)}, status=201)


@ensure_csrf_cookie
@require_http_methods(["GET", "POST"])
def accounts(request):
    """GET: the Switch tab, the login's accounts by name.  POST: a new account (child=1: a child of the current one, its users copied).

    Sets the CSRF cookie, whose value a client sends back as X-CSRFToken with
    every POST.
    """
    if request.method == "POST":
        child = request.POST.get("child") == "1"
        account = scalar("SELECT kalix.create_account(%s, child => %s, copy_users => %s)",
                         [request.POST["name"], child, child])
        return JsonResponse({"account": str(account)}, status=201)
    with connection.cursor() as cursor:
        cursor.execute("SELECT account_id, name, role::text, parent_id, is_current FROM kalix.my_accounts()")
        rows = [{"id": str(a), "name": n, "role": r, "parent_id": as_text(p), "is_current": c}
                for a, n, r, p, c in cursor.fetchall()]
    return JsonResponse({"accounts": rows})


@require_POST
def switch(request):
    """Checks that the login may work in the account; the session then keeps it."""
    account = request.POST["account"]
    scalar("SELECT kalix.switch_account(%s, true)", [account])
    name = scalar("SELECT name FROM kalix.accounts WHERE id = kalix.current_account()")
    request.session[ACCOUNT] = account
    return JsonResponse({"account": account, "name": name})


@require_POST
def add_member(request):
    """Adds a login to the current account (the signed-in login must be an admin there)."""
    scalar("SELECT kalix.add_member(kalix.current_account(), %s, %s::kalix.account_role)",
           [request.POST["login"], request.POST.get("role", "member")])
    return JsonResponse({}, status=201)


def appointment_type_json(row):
    """An appointment type as JSON."""
    return {"id": row.id, "name": row.name, "minutes": row.minutes, "account_id": str(row.account_id)}


@require_http_methods(["GET", "POST"])
def appointment_types(request):
    """GET: every appointment type the account can use, its ancestors' included.  POST: a new one in the account."""
    if request.method == "POST":
        row = AppointmentType.objects.create(name=request.POST["name"],
                                             minutes=int(request.POST["minutes"]))
        return JsonResponse(appointment_type_json(row), status=201)
    rows = AppointmentType.objects.order_by("name", "id")
    return JsonResponse({"appointment_types": [appointment_type_json(r) for r in rows]})


@require_GET
def effective_appointment_types(request):
    """One appointment type per name, the nearest definition winning."""
    return JsonResponse({"appointment_types": [appointment_type_json(r) for r in nearest_appointment_types()]})


@require_http_methods(["GET", "POST"])
def patients(request):
    """GET: the account's patients (never an ancestor's).  POST: a new one in the account."""
    if request.method == "POST":
        row = Patient.objects.create(name=request.POST["name"])
        return JsonResponse({"id": row.id, "account_id": str(row.account_id)}, status=201)
    return JsonResponse({"patients": [p.name for p in Patient.objects.order_by("name")]})
