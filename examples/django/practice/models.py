"""The application's tables, created by SQL (examples/schema.sql) and isolated by kalix."""

from django.db import models


class DatabaseDefault(models.Expression):
    """Compiles to DEFAULT: an INSERT leaves the column to the table's own default.

    Django 3.2 has no Field.db_default (5.0 does); this works from 3.2 on.
    """

    def as_sql(self, compiler, connection):
        """The keyword DEFAULT, no parameters."""
        return "DEFAULT", []


class AccountField(models.UUIDField):
    """An account column: filled in by its DEFAULT kalix.current_account(), read back by the INSERT.

    db_returning adds the column to the INSERT's RETURNING (as for the
    primary key), so a saved object holds the account the row went to.
    """

    db_returning = True

    def __init__(self, *args, **kwargs):
        """Defaults to DatabaseDefault and is not editable in forms."""
        kwargs.setdefault("default", DatabaseDefault)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        """Lets an unsaved object's DatabaseDefault through validation."""
        if isinstance(value, DatabaseDefault):
            return value
        return super().to_python(value)


class LineageDistance(models.Func):
    """kalix.lineage_distance(account): 0 for the current account, 1 for its parent, ..."""

    function = "kalix.lineage_distance"
    output_field = models.IntegerField()


class AppointmentType(models.Model):
    """A row of appointment_types: the account's own, or one of an ancestor's (inherited)."""

    id = models.BigAutoField(primary_key=True)
    account_id = AccountField()
    name = models.TextField()
    minutes = models.IntegerField()

    class Meta:
        managed = False
        db_table = "appointment_types"


class Patient(models.Model):
    """A row of patients: never shared with other accounts."""

    id = models.BigAutoField(primary_key=True)
    account_id = AccountField()
    name = models.TextField()

    class Meta:
        managed = False
        db_table = "patients"


def nearest_appointment_types():
    """One appointment type per name, the nearest definition in the lineage winning.

    SELECT DISTINCT ON (name) ... ORDER BY name, kalix.lineage_distance(account_id)
    """
    return (AppointmentType.objects
            .order_by("name", LineageDistance("account_id"))
            .distinct("name"))
