"""Request handlers of a web backend on kalix_accounts, with SQLAlchemy.

The application connects as one database role (granted SET ON PARAMETER
kalix.current_login and EXECUTE on kalix.create_login) and acts for many
people.  Every request is one transaction that first says, inside that
transaction, who is acting and in which account:

    SELECT kalix.act_as(:login, :account);

which checks the login and the membership once and holds for this
transaction only, so nothing of one request stays on the pooled connection
for the next one.
`request()` does this for SQLAlchemy Core, `orm_request()` for the ORM (an
"after_begin" listener on the session factory).  The handlers take the
signed-in login and the account the user works in (in a real backend both
come from the web session) and return plain Python values.
"""

from contextlib import contextmanager

from sqlalchemy import Column, Integer, BigInteger, Text, create_engine, event, func, select, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import declarative_base, sessionmaker

Base = declarative_base()


class AppointmentType(Base):
    """A row of appointment_types: the account's own, or one of an ancestor's."""

    __tablename__ = "appointment_types"
    __mapper_args__ = {"eager_defaults": True}
    id = Column(BigInteger, primary_key=True)
    # Filled in by the column default, kalix.current_account().
    account_id = Column(UUID(as_uuid=False), server_default=func.kalix.current_account())
    name = Column(Text, nullable=False)
    minutes = Column(Integer, nullable=False)


class Patient(Base):
    """A row of patients: never shared with other accounts."""

    __tablename__ = "patients"
    __mapper_args__ = {"eager_defaults": True}
    id = Column(BigInteger, primary_key=True)
    account_id = Column(UUID(as_uuid=False), server_default=func.kalix.current_account())
    name = Column(Text, nullable=False)


class Forbidden(Exception):
    """The database refused: not a member, not an admin, no login (SQLSTATE 42501)."""


class InvitationInvalid(Exception):
    """The invitation token is unknown, used, revoked, expired or someone else's (SQLSTATE 28000)."""


# The refusals the web layer answers itself, by SQLSTATE.
_REFUSALS = {"42501": Forbidden, "28000": InvitationInvalid}


@contextmanager
def _refusals_as_exceptions():
    """Turns insufficient_privilege into Forbidden (the web layer's 403) and an unusable invitation into InvitationInvalid (one "invitation no longer valid" page)."""
    try:
        yield
    except DBAPIError as e:
        refusal = _REFUSALS.get(getattr(e.orig, "pgcode", None))
        if refusal:
            raise refusal(e.orig.diag.message_primary) from e
        raise


def make_engine(dbname, user, password, host=None, port=None, **kwargs):
    """An engine logging in as the application role (libpq's PG* defaults for the rest)."""
    connect_args = {"dbname": dbname, "user": user, "password": password,
                    "connect_timeout": 10, "options": "-c statement_timeout=30000"}
    if host:
        connect_args["host"] = host
    if port:
        connect_args["port"] = port
    return create_engine("postgresql+psycopg2://", connect_args=connect_args,
                         future=True, **kwargs)


def _identify(conn, login, account):
    """Sets login and account for the running transaction only.

    kalix.act_as needs a login; a request without one (signing up) sets
    the empty login for the transaction instead.  str(): ids may be
    uuid.UUID values (psycopg2 with register_uuid(), as Django sets it up;
    SQLAlchemy's UUID(as_uuid=True)).
    """
    if login:
        conn.execute(text("SELECT kalix.act_as(CAST(:login AS uuid), CAST(:account AS uuid))"),
                     {"login": str(login), "account": str(account) if account else None})
    else:
        conn.execute(text("SELECT set_config('kalix.current_login', '', true), "
                          "set_config('kalix.current_account', '', true)"))


@contextmanager
def request(engine, login=None, account=None):
    """One request with SQLAlchemy Core: a transaction acting as login in account."""
    with _refusals_as_exceptions(), engine.begin() as conn:
        _identify(conn, login, account)
        yield conn


# The ORM: sessions of this factory identify themselves at the start of every
# transaction, from session.info, before the first query of the transaction.
Session = sessionmaker(future=True, expire_on_commit=False)


@event.listens_for(Session, "after_begin")
def _identify_session(session, transaction, connection):
    """Runs when the session's transaction begins on its connection."""
    _identify(connection, session.info.get("login"), session.info.get("account"))


@contextmanager
def orm_request(engine, login=None, account=None):
    """One request with the ORM: a fresh session (no objects from an earlier request) in one transaction."""
    with _refusals_as_exceptions(), Session(bind=engine, info={"login": login, "account": account}) as session:
        with session.begin():
            yield session


# --- request handlers ---------------------------------------------------------

def sign_up(engine, email, display_name=None):
    """Creates a login for a new user; returns its id."""
    with request(engine) as conn:
        return conn.execute(text("SELECT kalix.create_login(:email, :name)::text"),
                            {"email": email, "name": display_name}).scalar_one()


def open_account(engine, login, name):
    """Creates an independent account owned by login; returns its id."""
    with request(engine, login) as conn:
        return conn.execute(text("SELECT kalix.create_account(:name)::text"),
                            {"name": name}).scalar_one()


def add_member(engine, login, account, member, role="member"):
    """Adds the login member to account (login must be an admin there)."""
    with request(engine, login, account) as conn:
        conn.execute(text("SELECT kalix.add_member(:account, :member, CAST(:role AS kalix.account_role))"),
                     {"account": account, "member": member, "role": role})


def invite(engine, login, account, email, role="member"):
    """Invites email into account, the current one (login must be an admin there); returns the one-time token for the link."""
    with request(engine, login, account) as conn:
        return conn.execute(text("SELECT kalix.invite(kalix.current_account(), :email, CAST(:role AS kalix.account_role))"),
                            {"email": email, "role": role}).scalar_one()


def accept_invitation(engine, login, token):
    """The invitee, signed in as login, accepts the link's token (a bind parameter, never in the SQL text); returns the account joined."""
    with request(engine, login) as conn:
        return conn.execute(text("SELECT kalix.accept_invitation(:token)::text"), {"token": token}).scalar_one()


def list_accounts(engine, login, account=None):
    """The Switch tab: the login's accounts, by name."""
    with request(engine, login, account) as conn:
        rows = conn.execute(text(
            "SELECT account_id::text AS id, name, role::text AS role, parent_id::text AS parent_id, is_current"
            " FROM kalix.my_accounts()"))
        return [dict(r._mapping) for r in rows]


def switch_account(engine, login, account):
    """Checks that login may work in account; returns its name (the web session then keeps the id)."""
    with request(engine, login, account) as conn:
        return conn.execute(text("SELECT name FROM kalix.accounts WHERE id = kalix.current_account()")).scalar_one()


def create_child(engine, login, account, name):
    """Creates a child of account with account's users copied; returns its id."""
    with request(engine, login, account) as conn:
        return conn.execute(text("SELECT kalix.create_account(:name, child => true, copy_users => true)::text"),
                            {"name": name}).scalar_one()


def add_appointment_type(engine, login, account, name, minutes):
    """Defines an appointment type in account; returns its id."""
    with orm_request(engine, login, account) as session:
        row = AppointmentType(name=name, minutes=minutes)
        session.add(row)
        session.flush()
        return row.id


def appointment_types(engine, login, account):
    """Every appointment type the account can use, its ancestors' included: (name, minutes, account_id)."""
    with orm_request(engine, login, account) as session:
        rows = session.scalars(select(AppointmentType).order_by(AppointmentType.name, AppointmentType.id))
        return [(r.name, r.minutes, r.account_id) for r in rows]


def effective_appointment_types(engine, login, account):
    """One appointment type per name, the nearest definition in the lineage winning."""
    with orm_request(engine, login, account) as session:
        rows = session.scalars(
            select(AppointmentType)
            .distinct(AppointmentType.name)
            .order_by(AppointmentType.name, func.kalix.lineage_distance(AppointmentType.account_id)))
        return [(r.name, r.minutes, r.account_id) for r in rows]


def add_patient(engine, login, account, name):
    """Registers a patient in account; returns the id."""
    with orm_request(engine, login, account) as session:
        row = Patient(name=name)
        session.add(row)
        session.flush()
        return row.id


def patients(engine, login, account):
    """The account's patients (never an ancestor's)."""
    with orm_request(engine, login, account) as session:
        return [p.name for p in session.scalars(select(Patient).order_by(Patient.name))]
