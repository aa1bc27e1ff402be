"""Runs the Django example against the server of the PG* variables, through Django's test client.

As superuser (PG* variables): a database with kalix_accounts and
examples/schema.sql, and an application role with a password, granted SET on
kalix.current_login and EXECUTE on kalix.create_login.  Django then logs in
as that role (its settings read the same PG* variables, set to the role
here), and the app plays a practice through its views: Alice signs up, opens
Sunrise Clinic and Harbor Practice, adds Bob to Sunrise, defines appointment
types, creates the child Downtown with Sunrise's users copied; Carol is a
login of her own.  Every request runs on the same persistent connection, so
whatever one left behind would be seen by the next.  Drops the database and
the role at the end.

`/usr/bin/python3 test_example.py` prints TAP, one line per test.
"""

import logging
import os
import secrets
import sys
import unittest
import uuid
from importlib import import_module

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
DB = "kalix_clients_django"
ROLE = "kalix_clients_django_app"
PASSWORD = secrets.token_hex(12)
SCHEMA = os.path.join(HERE, "..", "schema.sql")

# Django's settings read PGDATABASE, PGUSER and PGPASSWORD once, when set up:
# the application role's here; the superuser's are restored afterwards.
_superuser_env = {k: os.environ.get(k) for k in ("PGDATABASE", "PGUSER", "PGPASSWORD")}
os.environ.update(PGDATABASE=DB, PGUSER=ROLE, PGPASSWORD=PASSWORD)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kalix_site.settings")
import django  # noqa: E402

django.setup()
from django.conf import settings  # noqa: E402

assert settings.DATABASES["default"]["USER"] == ROLE
for _k, _v in _superuser_env.items():
    if _v is None:
        os.environ.pop(_k, None)
    else:
        os.environ[_k] = _v

from django.db import DatabaseError, connection, transaction  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings, setup_test_environment  # noqa: E402
from django.urls import include, path  # noqa: E402

from practice.middleware import ACCOUNT, LOGIN, identify  # noqa: E402
from practice.models import Patient  # noqa: E402


def state(request):
    """Test view: the backend, the identity and the rows this request sees."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), kalix.current_login()::text,"
                       " current_setting('kalix.current_account'),"
                       " (SELECT count(*) FROM appointment_types), (SELECT count(*) FROM patients)")
        pid, login, account, types, patients = cursor.fetchone()
    return JsonResponse({"pid": pid, "login": login, "account": account, "types": types, "patients": patients})


def fail(request):
    """Test view: inserts a patient, then fails."""
    Patient.objects.create(name="Never")
    raise ZeroDivisionError("the view failed half-way")


# The app's URLs and the two test views.
urlpatterns = [path("", include("practice.urls")), path("_state", state), path("_fail", fail)]


class IdentifyBeforeTheView:
    """The wiring that does not work: identify in a middleware, the transaction from ATOMIC_REQUESTS."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        identify(request.session.get(LOGIN), request.session.get(ACCOUNT))
        return self.get_response(request)


def superuser(dbname):
    """An autocommit connection as the PG* variables' (super)user."""
    conn = psycopg2.connect(dbname=dbname, connect_timeout=10, options="-c statement_timeout=60000")
    conn.autocommit = True
    return conn


def drop_all():
    """Drops the test database and the application role, if there."""
    conn = superuser("postgres")
    with conn.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % DB)
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ROLE,))
        if cur.fetchone():
            cur.execute("REVOKE SET ON PARAMETER kalix.current_login FROM %s" % ROLE)
            cur.execute("DROP ROLE %s" % ROLE)
    conn.close()


def client(login=None, account=None):
    """A test client whose session holds login and account, as after signing in and switching."""
    c = Client()
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    if login:
        session[LOGIN] = login
    if account:
        session[ACCOUNT] = account
    session.save()
    c.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return c


def call(c, method, url, data=None, status=200):
    """A request through c; its JSON, after checking the status."""
    response = getattr(c, method)(url, data or {})
    if response.status_code != status:
        raise AssertionError("%s %s: status %d, not %d: %s" % (
            method.upper(), url, response.status_code, status, response.content.decode()))
    return response.json()


class KalixDjangoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        drop_all()
        admin = superuser("postgres")
        with admin.cursor() as cur:
            cur.execute("CREATE ROLE %s LOGIN PASSWORD %%s" % ROLE, (PASSWORD,))
            cur.execute("GRANT SET ON PARAMETER kalix.current_login TO %s" % ROLE)
            cur.execute("CREATE DATABASE %s" % DB)
            cur.execute("ALTER ROLE %s IN DATABASE %s SET kalix.account_scope = 'transaction'" % (ROLE, DB))
        admin.close()
        db = superuser(DB)
        with db.cursor() as cur, open(SCHEMA) as schema:
            cur.execute("CREATE EXTENSION kalix_accounts CASCADE")
            cur.execute(schema.read())
            cur.execute("GRANT EXECUTE ON FUNCTION kalix.create_login(text, text, name) TO %s" % ROLE)
            cur.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %s" % ROLE)
        db.close()

        # The practice, played through the views as a browser would: each
        # client keeps its session cookie (the login, then the account).
        alice, bob, carol = Client(), Client(), Client()
        cls.alice = call(alice, "post", "/signup", {"email": "alice@example.com", "name": "Alice"}, 201)["login"]
        cls.bob = call(bob, "post", "/signup", {"email": "bob@example.com", "name": "Bob"}, 201)["login"]
        cls.carol = call(carol, "post", "/signup", {"email": "carol@example.com", "name": "Carol"}, 201)["login"]
        cls.sunrise = call(alice, "post", "/accounts", {"name": "Sunrise Clinic"}, 201)["account"]
        cls.harbor = call(alice, "post", "/accounts", {"name": "Harbor Practice"}, 201)["account"]
        call(alice, "post", "/switch", {"account": cls.sunrise})
        call(alice, "post", "/members", {"login": cls.bob}, 201)
        call(alice, "post", "/appointment-types", {"name": "Initial visit", "minutes": 60}, 201)
        call(alice, "post", "/appointment-types", {"name": "Follow-up", "minutes": 20}, 201)
        call(alice, "post", "/patients", {"name": "Ann"}, 201)
        cls.downtown = call(alice, "post", "/accounts", {"name": "Downtown", "child": "1"}, 201)["account"]
        call(alice, "post", "/switch", {"account": cls.harbor})
        call(alice, "post", "/appointment-types", {"name": "Initial visit", "minutes": 50}, 201)
        call(alice, "post", "/patients", {"name": "Hal"}, 201)
        call(alice, "post", "/switch", {"account": cls.downtown})
        call(alice, "post", "/appointment-types", {"name": "Initial visit", "minutes": 30}, 201)
        call(bob, "post", "/switch", {"account": cls.downtown})
        call(bob, "post", "/patients", {"name": "Dora"}, 201)
        cls.carols = call(carol, "post", "/accounts", {"name": "Carol's Practice"}, 201)["account"]

    @classmethod
    def tearDownClass(cls):
        connection.close()
        drop_all()

    def accounts(self, c):
        return [(a["name"], a["role"], a["parent_id"]) for a in call(c, "get", "/accounts")["accounts"]]

    def types(self, c, url="/appointment-types"):
        return [(t["name"], t["minutes"], t["account_id"]) for t in call(c, "get", url)["appointment_types"]]

    def patients(self, c):
        return call(c, "get", "/patients")["patients"]

    def test_accounts_listed(self):
        self.assertEqual(self.accounts(client(self.alice)),
                         [("Downtown", "owner", self.sunrise),
                          ("Harbor Practice", "owner", None),
                          ("Sunrise Clinic", "owner", None)])
        listed = call(client(self.alice, self.harbor), "get", "/accounts")["accounts"]
        self.assertEqual([a["name"] for a in listed if a["is_current"]], ["Harbor Practice"])
        # The Switch tab hands out the CSRF cookie that later POSTs send back.
        self.assertIn(settings.CSRF_COOKIE_NAME, client(self.alice).get("/accounts").cookies)

    def test_child_has_copied_users(self):
        self.assertEqual(self.accounts(client(self.bob)),
                         [("Downtown", "member", self.sunrise),
                          ("Sunrise Clinic", "member", None)])

    def test_switching_changes_rows(self):
        c = client(self.alice)
        self.assertEqual(call(c, "post", "/switch", {"account": self.sunrise})["name"], "Sunrise Clinic")
        self.assertEqual(self.types(c), [("Follow-up", 20, self.sunrise), ("Initial visit", 60, self.sunrise)])
        self.assertEqual(self.patients(c), ["Ann"])
        self.assertEqual(call(c, "post", "/switch", {"account": self.harbor})["name"], "Harbor Practice")
        self.assertEqual(self.types(c), [("Initial visit", 50, self.harbor)])
        self.assertEqual(self.patients(c), ["Hal"])

    def test_child_sees_parent_appointment_types(self):
        c = client(self.bob, self.downtown)
        self.assertEqual(self.types(c), [("Follow-up", 20, self.sunrise),
                                         ("Initial visit", 60, self.sunrise),
                                         ("Initial visit", 30, self.downtown)])
        # Patients are not inherited: Downtown sees its own only.
        self.assertEqual(self.patients(c), ["Dora"])

    def test_parent_does_not_see_child_rows(self):
        c = client(self.alice, self.sunrise)
        self.assertEqual(self.types(c), [("Follow-up", 20, self.sunrise), ("Initial visit", 60, self.sunrise)])
        self.assertEqual(self.patients(c), ["Ann"])

    def test_nearest_definition_wins(self):
        c = client(self.bob, self.downtown)
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(self.types(c, "/appointment-types/effective"),
                             [("Follow-up", 20, self.sunrise), ("Initial visit", 30, self.downtown)])
        sql = [q["sql"] for q in queries if "appointment_types" in q["sql"]]
        self.assertEqual(len(sql), 1, sql)
        self.assertIn('SELECT DISTINCT ON ("appointment_types"."name")', sql[0])
        self.assertIn('kalix.lineage_distance("appointment_types"."account_id")', sql[0])
        self.assertEqual(self.types(client(self.bob, self.sunrise), "/appointment-types/effective"),
                         [("Follow-up", 20, self.sunrise), ("Initial visit", 60, self.sunrise)])

    def test_second_login_sees_nothing_of_the_first(self):
        carol = client(self.carol)
        self.assertEqual(self.accounts(carol), [("Carol's Practice", "owner", None)])
        for account in (self.sunrise, self.harbor, self.downtown):
            # Refused by switch_account in the view...
            call(carol, "post", "/switch", {"account": account}, 403)
            # ... and in the middleware, for a session that holds the account.
            call(client(self.carol, account), "get", "/appointment-types", status=403)
        call(client(self.carol, self.sunrise), "post", "/accounts", {"name": "Carol's branch", "child": "1"}, 403)
        # The refused session forgets the account: the next request runs without it.
        stale = client(self.carol, self.sunrise)
        call(stale, "get", "/patients", status=403)
        self.assertEqual([a["is_current"] for a in call(stale, "get", "/accounts")["accounts"]], [False])
        self.assertEqual(call(stale, "post", "/switch", {"account": self.carols})["name"], "Carol's Practice")
        self.assertEqual(self.types(client(self.carol, self.carols)), [])
        self.assertEqual(self.patients(client(self.carol, self.carols)), [])
        self.assertEqual(self.types(carol), [])
        # A member is no admin: the database's refusal in the view is a 403.
        call(client(self.bob, self.sunrise), "post", "/members", {"login": self.carol}, 403)
        # Nothing of Alice's either without a login at all.
        self.assertEqual(self.accounts(client()), [])
        call(client(), "post", "/accounts", {"name": "Nobody's"}, 403)

    def test_account_column_defaults_in_the_database(self):
        dave = Client()
        call(dave, "post", "/signup", {"email": "dave@example.com"}, 201)
        annex = call(dave, "post", "/accounts", {"name": "Dave's Practice"}, 201)["account"]
        call(dave, "post", "/switch", {"account": annex})
        with CaptureQueriesContext(connection) as queries:
            row = call(dave, "post", "/appointment-types", {"name": "Check-up", "minutes": 15}, 201)
        # The INSERT leaves account_id to DEFAULT kalix.current_account() and
        # reads it back in the same statement.
        inserts = [q["sql"] for q in queries if q["sql"].startswith("INSERT")]
        self.assertEqual(len(inserts), 1, inserts)
        self.assertIn('("account_id", "name", "minutes") VALUES (DEFAULT, ', inserts[0])
        self.assertIn('RETURNING "appointment_types"."id", "appointment_types"."account_id"', inserts[0])
        self.assertEqual(row["account_id"], annex)
        self.assertEqual(self.types(dave), [("Check-up", 15, annex)])

    def test_uuid_values_identify(self):
        # Django's psycopg2 set-up sends uuid.UUID values (what it reads from
        # uuid columns) as uuid: identify() passes str() to kalix.act_as.
        with transaction.atomic():
            identify(uuid.UUID(self.alice), uuid.UUID(self.sunrise))
            with connection.cursor() as cursor:
                cursor.execute("SELECT kalix.current_login(), kalix.current_account()")
                self.assertEqual(cursor.fetchone(), (uuid.UUID(self.alice), uuid.UUID(self.sunrise)))

    def test_no_rows_leak_between_requests(self):
        first = call(client(self.alice, self.sunrise), "get", "/_state")
        pid = first["pid"]
        clean = {"pid": pid, "login": None, "account": "", "types": 0, "patients": 0}
        self.assertEqual(first, dict(clean, login=self.alice, account=self.sunrise, types=2, patients=1))
        self.assertEqual(call(client(), "get", "/_state"), clean)
        self.assertEqual(call(client(self.bob, self.downtown), "get", "/_state")["types"], 3)
        self.assertEqual(call(client(self.carol), "get", "/_state"), dict(clean, login=self.carol))
        # A request that fails half-way leaves nothing either: its insert is
        # rolled back with the identity.
        with self.assertRaises(ZeroDivisionError):
            client(self.alice, self.harbor).post("/_fail")
        self.assertEqual(self.patients(client(self.alice, self.harbor)), ["Hal"])
        self.assertEqual(call(client(), "get", "/_state"), clean)

    def test_first_request_on_a_new_connection(self):
        # The library loads during the first request; the login and account
        # that request set still count.
        old = call(client(), "get", "/_state")["pid"]
        connection.close()
        first = call(client(self.bob, self.downtown), "get", "/_state")
        self.assertNotEqual(first["pid"], old)
        self.assertEqual(first, {"pid": first["pid"], "login": self.bob, "account": self.downtown,
                                 "types": 3, "patients": 1})
        connection.close()
        self.assertEqual(self.types(client(self.alice, self.harbor)), [("Initial visit", 50, self.harbor)])

    def test_atomic_requests_alone_is_refused(self):
        # The middleware identifies in autocommit, each statement its own
        # transaction; ATOMIC_REQUESTS opens the view's only afterwards.
        # kalix.act_as refuses to run outside a transaction block (SQLSTATE
        # 25P01), so the wrong wiring fails at once instead of serving an
        # empty Switch tab.
        connection.settings_dict["ATOMIC_REQUESTS"] = True
        try:
            with override_settings(MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware",
                                               __name__ + ".IdentifyBeforeTheView"]):
                with self.assertRaises(DatabaseError) as refused:
                    client(self.alice).get("/_state")
                self.assertEqual(refused.exception.__cause__.pgcode, "25P01")
        finally:
            connection.settings_dict["ATOMIC_REQUESTS"] = False
        self.assertEqual(len(self.accounts(client(self.alice))), 3)


class TapResult(unittest.TestResult):
    """Prints one TAP line per test, the traceback of a failure as diagnostics."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.n = 0

    def line(self, ok, test, err=None):
        self.n += 1
        print("%s %d - %s" % ("ok" if ok else "not ok", self.n, getattr(test, "_testMethodName", str(test))))
        for d in (self._exc_info_to_string(err, test) if err else "").splitlines():
            print("# " + d)
        sys.stdout.flush()

    def addSuccess(self, test):
        super().addSuccess(test)
        self.line(True, test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.line(False, test, err)

    def addError(self, test, err):
        super().addError(test, err)
        self.line(False, test, err)


def main():
    setup_test_environment()
    # Django logs every 403 and the failing view: the tests' own doing.
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    override_settings(ROOT_URLCONF=__name__).enable()
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(KalixDjangoTest)
    print("1..%d" % suite.countTestCases())
    result = TapResult()
    suite.run(result)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
