"""Runs the example app (kalix_app.py) against the server of the PG* variables.

As superuser (PG* variables): a database with kalix_accounts and
examples/schema.sql, and an application role with a password, granted SET on
kalix.current_login and EXECUTE on kalix.create_login.  Then the app, logged
in as that role, plays a practice: Alice opens Sunrise Clinic and Harbor
Practice, adds Bob to Sunrise, defines appointment types, creates the child
Downtown with Sunrise's users copied; Carol is a login of her own.  Drops the
database and the role at the end.

`python3 test_example.py` prints TAP; `python3 -m unittest` works as well.
"""

import os
import secrets
import sys
import unittest
import uuid

import psycopg2
import psycopg2.extras

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kalix_app as app  # noqa: E402
from sqlalchemy import select, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

DB = "kalix_clients_py"
ROLE = "kalix_clients_py_app"
SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "schema.sql")


def superuser(dbname):
    """An autocommit connection as the PG* variables' (super)user."""
    conn = psycopg2.connect(dbname=dbname, connect_timeout=10,
                            options="-c statement_timeout=60000")
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


class KalixAppTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        drop_all()
        password = secrets.token_hex(12)
        admin = superuser("postgres")
        with admin.cursor() as cur:
            cur.execute("CREATE ROLE %s LOGIN PASSWORD %%s" % ROLE, (password,))
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

        # One pooled connection: every request runs on the same backend, so
        # whatever a request left behind would be seen by the next one.
        cls.password = password
        cls.engine = e = app.make_engine(DB, ROLE, password, pool_size=1, max_overflow=0)
        cls.alice = app.sign_up(e, "alice@example.com", "Alice")
        cls.bob = app.sign_up(e, "bob@example.com", "Bob")
        cls.carol = app.sign_up(e, "carol@example.com", "Carol")
        cls.sunrise = app.open_account(e, cls.alice, "Sunrise Clinic")
        cls.harbor = app.open_account(e, cls.alice, "Harbor Practice")
        app.add_member(e, cls.alice, cls.sunrise, cls.bob)
        app.add_appointment_type(e, cls.alice, cls.sunrise, "Initial visit", 60)
        app.add_appointment_type(e, cls.alice, cls.sunrise, "Follow-up", 20)
        app.add_appointment_type(e, cls.alice, cls.harbor, "Initial visit", 50)
        app.add_patient(e, cls.alice, cls.sunrise, "Ann")
        app.add_patient(e, cls.alice, cls.harbor, "Hal")
        cls.downtown = app.create_child(e, cls.alice, cls.sunrise, "Downtown")
        app.add_appointment_type(e, cls.alice, cls.downtown, "Initial visit", 30)
        app.add_patient(e, cls.bob, cls.downtown, "Dora")
        cls.carols = app.open_account(e, cls.carol, "Carol's Practice")

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "engine", None) is not None:
            cls.engine.dispose()
        drop_all()

    def names(self, accounts):
        return [(a["name"], a["role"], a["parent_id"]) for a in accounts]

    def test_accounts_listed(self):
        self.assertEqual(self.names(app.list_accounts(self.engine, self.alice)),
                         [("Downtown", "owner", self.sunrise),
                          ("Harbor Practice", "owner", None),
                          ("Sunrise Clinic", "owner", None)])
        listed = app.list_accounts(self.engine, self.alice, self.harbor)
        self.assertEqual([a["name"] for a in listed if a["is_current"]], ["Harbor Practice"])

    def test_child_has_copied_users(self):
        self.assertEqual(self.names(app.list_accounts(self.engine, self.bob)),
                         [("Downtown", "member", self.sunrise),
                          ("Sunrise Clinic", "member", None)])

    def test_switching_changes_rows(self):
        e, alice = self.engine, self.alice
        self.assertEqual(app.switch_account(e, alice, self.sunrise), "Sunrise Clinic")
        self.assertEqual(app.appointment_types(e, alice, self.sunrise),
                         [("Follow-up", 20, self.sunrise), ("Initial visit", 60, self.sunrise)])
        self.assertEqual(app.patients(e, alice, self.sunrise), ["Ann"])
        self.assertEqual(app.switch_account(e, alice, self.harbor), "Harbor Practice")
        self.assertEqual(app.appointment_types(e, alice, self.harbor), [("Initial visit", 50, self.harbor)])
        self.assertEqual(app.patients(e, alice, self.harbor), ["Hal"])

    def test_child_sees_parent_appointment_types(self):
        self.assertEqual(app.appointment_types(self.engine, self.bob, self.downtown),
                         [("Follow-up", 20, self.sunrise),
                          ("Initial visit", 60, self.sunrise),
                          ("Initial visit", 30, self.downtown)])
        # Patients are not inherited: Downtown sees its own only.
        self.assertEqual(app.patients(self.engine, self.bob, self.downtown), ["Dora"])

    def test_parent_does_not_see_child_rows(self):
        self.assertNotIn(("Initial visit", 30, self.downtown),
                         app.appointment_types(self.engine, self.alice, self.sunrise))
        self.assertEqual(app.patients(self.engine, self.alice, self.sunrise), ["Ann"])

    def test_nearest_definition_wins(self):
        self.assertEqual(app.effective_appointment_types(self.engine, self.bob, self.downtown),
                         [("Follow-up", 20, self.sunrise), ("Initial visit", 30, self.downtown)])
        self.assertEqual(app.effective_appointment_types(self.engine, self.bob, self.sunrise),
                         [("Follow-up", 20, self.sunrise), ("Initial visit", 60, self.sunrise)])

    def test_second_login_sees_nothing_of_the_first(self):
        e, carol = self.engine, self.carol
        self.assertEqual(self.names(app.list_accounts(e, carol)), [("Carol's Practice", "owner", None)])
        for account in (self.sunrise, self.harbor, self.downtown):
            with self.assertRaises(app.Forbidden):
                app.switch_account(e, carol, account)
            with self.assertRaises(app.Forbidden):
                app.appointment_types(e, carol, account)
        with self.assertRaises(app.Forbidden):
            app.create_child(e, carol, self.sunrise, "Carol's branch")
        self.assertEqual(app.appointment_types(e, carol, self.carols), [])
        self.assertEqual(app.patients(e, carol, self.carols), [])
        self.assertEqual(app.appointment_types(e, carol, None), [])
        # Nothing of Alice's either without a login at all.
        self.assertEqual(app.list_accounts(e, None), [])
        with self.assertRaises(app.Forbidden):
            app.open_account(e, None, "Nobody's")

    def state(self, conn):
        return conn.execute(text(
            "SELECT pg_backend_pid(), kalix.current_login()::text,"
            " current_setting('kalix.current_account'),"
            " (SELECT count(*) FROM appointment_types), (SELECT count(*) FROM patients)")).one()

    def test_no_rows_leak_between_requests(self):
        e = self.engine
        with app.request(e, self.alice, self.sunrise) as conn:
            pid, login, account, types, pats = self.state(conn)
        self.assertEqual((login, account, types, pats), (self.alice, self.sunrise, 2, 1))
        with app.request(e) as conn:
            self.assertEqual(tuple(self.state(conn)), (pid, None, "", 0, 0))
        with app.orm_request(e, self.bob, self.downtown) as session:
            self.assertEqual(session.execute(text("SELECT pg_backend_pid()")).scalar_one(), pid)
            self.assertEqual(len(session.scalars(select(app.AppointmentType)).all()), 3)
        with app.orm_request(e) as session:
            self.assertEqual(tuple(self.state(session.connection())), (pid, None, "", 0, 0))

        # A request that fails half-way leaves nothing either.
        with self.assertRaises(ZeroDivisionError):
            with app.request(e, self.alice, self.harbor) as conn:
                conn.execute(text("INSERT INTO patients (name) VALUES ('Never')"))
                1 / 0
        with app.request(e, self.alice, self.harbor) as conn:
            self.assertEqual(conn.execute(text("SELECT array_agg(name) FROM patients")).scalar_one(), ["Hal"])
        with app.request(e) as conn:
            self.assertEqual(tuple(self.state(conn)), (pid, None, "", 0, 0))

    def test_session_level_mistakes_do_not_carry_over(self):
        e = self.engine
        # A handler that forgets is_local: kalix.account_scope = 'transaction'
        # (set for the role) voids the account at the end of its transaction,
        # and request() sets the login afresh (to none here) in every request.
        with app.request(e, self.alice) as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            conn.execute(text("SELECT set_config('kalix.current_login', :l, false)"), {"l": self.alice})
            conn.execute(text("SELECT kalix.switch_account(:a)"), {"a": self.sunrise})
        with app.request(e) as conn:
            self.assertEqual(tuple(self.state(conn)), (pid, None, "", 0, 0))
            self.assertEqual(conn.execute(text("SELECT count(*) FROM kalix.my_accounts()")).scalar_one(), 0)


    def test_uuid_values_identify(self):
        # psycopg2 with register_uuid() (as Django sets it up), SQLAlchemy's
        # UUID(as_uuid=True) and Django hand out uuid.UUID values; sent as
        # they are, set_config(unknown, uuid, boolean) would not exist.
        psycopg2.extras.register_uuid()
        alice, sunrise, downtown = (uuid.UUID(v) for v in (self.alice, self.sunrise, self.downtown))
        with app.request(self.engine, alice, sunrise) as conn:
            self.assertEqual(tuple(self.state(conn))[1:], (self.alice, self.sunrise, 2, 1))
        with app.orm_request(self.engine, uuid.UUID(self.bob), downtown) as session:
            self.assertEqual(len(session.scalars(select(app.AppointmentType)).all()), 3)

    def test_first_request_on_a_new_connection(self):
        # The library loads during the first request; the login and account
        # that request set still count (a new backend every time here).
        fresh = app.make_engine(DB, ROLE, self.password, poolclass=NullPool)
        try:
            self.assertEqual(app.appointment_types(fresh, self.bob, self.downtown)[-1],
                             ("Initial visit", 30, self.downtown))
            self.assertEqual(app.switch_account(fresh, self.alice, self.harbor), "Harbor Practice")
            with app.request(fresh, self.alice, self.sunrise) as conn:
                self.assertEqual(tuple(self.state(conn))[1:], (self.alice, self.sunrise, 2, 1))
        finally:
            fresh.dispose()


class TapResult(unittest.TestResult):
    """Prints one TAP line per test."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.n = 0

    def line(self, ok, test, diag=None, directive=""):
        self.n += 1
        name = getattr(test, "_testMethodName", str(test))
        print("%s %d - %s%s" % ("ok" if ok else "not ok", self.n, name, directive))
        for d in (diag or "").splitlines():
            print("# " + d)
        sys.stdout.flush()

    def addSuccess(self, test):
        super().addSuccess(test)
        self.line(True, test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.line(False, test, self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self.line(False, test, self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.line(True, test, directive=" # SKIP " + reason)


def main():
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(KalixAppTest)
    print("1..%d" % suite.countTestCases())
    result = TapResult()
    suite.run(result)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
