/*
 * reference.c
 *		The references between the extension's tables, kept by constraint
 *		triggers instead of foreign keys, so that any restore loads them.
 *
 * pg_dump orders the data of an extension's configuration tables by their
 * foreign keys only in the archive's sort order: each TABLE DATA entry
 * depends on nothing but its table, which the archive does not contain
 * (CREATE EXTENSION makes it).  pg_restore -j therefore loads every
 * configuration table at once, and a foreign key from kalix.memberships to
 * kalix.accounts refused the memberships whenever their COPY ran before the
 * accounts' COPY had committed.  So the extension declares its references as
 * pairs of constraint triggers:
 *
 * - kalix_reference_check, on the referencing table (AFTER INSERT OR UPDATE
 *   OF the column): the key must be in the referenced table, whose row it
 *   locks FOR KEY SHARE as a foreign key does.  The one exception: a
 *   referenced table that has no committed row at all, which is what a
 *   restore that loads the tables in parallel sees before the referenced
 *   table's data arrives (a live database never inserts a membership before
 *   its first account).
 * - kalix_reference_keep, on the referenced table (AFTER DELETE OR UPDATE OF
 *   the key, and AFTER TRUNCATE): a key that rows still reference may not go,
 *   checked with the latest snapshot under REPEATABLE READ as a foreign key's
 *   check is.
 *
 * The errors are a foreign key's, word for word, under the constraint's old
 * name.
 *
 * The write path may vouch for the keys of its next statement
 * (KalixTrustKeys): a key whose row this (sub)transaction inserted, or holds
 * so that it cannot be deleted or re-keyed before the transaction ends (the
 * row locked, or a row locked that references it, which reference_keep then
 * refuses to let go), needs neither the check's query nor its lock, and
 * kalix_reference_check accepts it without them.  The word holds for the
 * immediate checks of that one statement (the caller withdraws it after),
 * in the subtransaction that gave it: an error there ends that
 * subtransaction, and with it the word.
 *
 * The write path may also vouch, until the transaction ends, for the
 * reference of one account row it stored (KalixTrustStoredReference), whose
 * check of accounts.parent_id is deferred to commit: create_account(child =>
 * true) for the new child, link_child for the linked one.  The parent is held
 * against other transactions by the caller's membership in it, locked FOR
 * SHARE (reference_keep of memberships.account_id finds the membership, and
 * deleting the membership waits for the lock), and against this one by that
 * row itself: reference_keep of accounts.parent_id refuses to delete the
 * parent while the row names it, and a row deleted meanwhile is not checked
 * at all.  A lock does not hold a row against its own transaction, so the
 * word covers that row's reference and no other row's (a row stored after
 * this transaction deleted the parent is checked).  The row is known by its
 * id and its xmin, the xid of the subtransaction that stored it: if that
 * subtransaction aborts, the row, its deferred check and the lock go
 * together, and a row stored again later has another xmin.
 */
#include "postgres.h"

#include <string.h>

#include "access/htup_details.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "kalix.h"
#include "citus.h"
#include "reference.h"

/* The prepared statements of one reference trigger, by trigger OID. */
typedef struct ReferencePlans
{
	Oid			tgoid;			/* hash key */
	Oid			queried;		/* the table the statements read */
	SPIPlanPtr	match;			/* rows with the key, locked FOR KEY SHARE */
	SPIPlanPtr	any;			/* any row at all */
} ReferencePlans;

static HTAB *reference_plans = NULL;

/* The keys the running write-path statement vouches for, and where. */
static struct
{
	LocalTransactionId lxid;
	SubTransactionId subxid;
	int			n;
	KalixTrustedKey keys[KALIX_TRUSTED_MAX];
} trusted;

/*
 * Vouches for n keys (table names as static strings) until the next call;
 * KalixTrustKeys(NULL, 0) withdraws the word.
 */
void
KalixTrustKeys(const KalixTrustedKey *keys, int n)
{
	Assert(n <= KALIX_TRUSTED_MAX);
	trusted.lxid = KalixCurrentLxid();
	trusted.subxid = GetCurrentSubTransactionId();
	trusted.n = n;
	if (n > 0)
		memcpy(trusted.keys, keys, n * sizeof(KalixTrustedKey));
}

/* The account rows whose reference the write path vouches for, in this transaction. */
static struct
{
	LocalTransactionId lxid;
	int			n;
	struct
	{
		TransactionId xid;		/* the row's xmin */
		pg_uuid_t	row;		/* its id */
		const char *column;		/* the referencing column */
		const char *table;		/* the table it references */
		pg_uuid_t	key;		/* the key it names */
	}			refs[KALIX_STORED_MAX];
} stored;

/*
 * Vouches, until the transaction ends, for the reference in `column` to `key`
 * of the named table (static strings, as the reference triggers name them)
 * of the kalix.accounts row `row` that this (sub)transaction just stored
 * (see the top comment).  Past KALIX_STORED_MAX rows per transaction, the
 * checks are simply made.
 */
void
KalixTrustStoredReference(const pg_uuid_t *row, const char *column, const char *table,
						  const pg_uuid_t *key)
{
	if (stored.lxid != KalixCurrentLxid())
	{
		stored.lxid = KalixCurrentLxid();
		stored.n = 0;
	}
	if (stored.n == KALIX_STORED_MAX)
		return;
	stored.refs[stored.n].xid = GetCurrentTransactionId();
	stored.refs[stored.n].row = *row;
	stored.refs[stored.n].column = column;
	stored.refs[stored.n].table = table;
	stored.refs[stored.n].key = *key;
	stored.n++;
}

/*
 * Whether the write path vouches for the reference in `column` to a uuid key
 * of the named table in this row version of the trigger's relation.
 */
static bool
StoredReferenceTrusted(Relation rel, HeapTuple tuple, const char *column, const char *table,
					   Datum value)
{
	int			attnum;
	bool		isnull;
	Datum		id;

	if (stored.n == 0 || stored.lxid != KalixCurrentLxid())
		return false;
	attnum = SPI_fnumber(RelationGetDescr(rel), "id");
	if (attnum <= 0 || SPI_gettypeid(RelationGetDescr(rel), attnum) != UUIDOID)
		return false;
	id = heap_getattr(tuple, attnum, RelationGetDescr(rel), &isnull);
	if (isnull)
		return false;
	for (int i = 0; i < stored.n; i++)
		if (TransactionIdEquals(stored.refs[i].xid, HeapTupleHeaderGetXmin(tuple->t_data)) &&
			memcmp(stored.refs[i].row.data, DatumGetUUIDP(id)->data, UUID_LEN) == 0 &&
			strcmp(stored.refs[i].column, column) == 0 &&
			strcmp(stored.refs[i].table, table) == 0 &&
			memcmp(stored.refs[i].key.data, DatumGetUUIDP(value)->data, UUID_LEN) == 0)
			return true;
	return false;
}

/* Whether the write path vouches for a uuid key of the named table, here and now. */
static bool
KeyTrusted(const char *table, Datum value)
{
	if (trusted.n == 0 || trusted.lxid != KalixCurrentLxid() ||
		trusted.subxid != GetCurrentSubTransactionId())
		return false;
	for (int i = 0; i < trusted.n; i++)
		if (strcmp(trusted.keys[i].table, table) == 0 &&
			memcmp(trusted.keys[i].key.data, DatumGetUUIDP(value)->data, UUID_LEN) == 0)
			return true;
	return false;
}

/*
 * Prepares and keeps one statement, with its generic plan (a lookup by key:
 * as for the write path's statements, write.c, a custom plan could follow a
 * skewed statistic into a table scan), or raises.
 */
static SPIPlanPtr
KeepPlan(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare_cursor(sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);

	if (plan == NULL)
		elog(ERROR, "kalix_accounts: SPI_prepare failed for \"%s\": %s",
			 sql, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "kalix_accounts: SPI_keepplan failed");
	return plan;
}

/*
 * Raises unless a table is one of schema kalix: the triggers read their
 * tables as the owner with row-level security out of the way, so they serve
 * the extension's own tables and nothing else.
 */
static void
RequireKalixTable(Oid relid)
{
	if (get_rel_namespace(relid) != get_namespace_oid("kalix", false))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("kalix reference triggers serve only the tables of schema kalix"),
				 errdetail("Table \"%s\" is not in schema kalix.", get_rel_name(relid)),
				 errhint("Use a foreign key for other tables.")));
}

/*
 * The statements of a reference trigger that reads column `column` (of type
 * `type`) of the table named `table`, prepared on first use and again when
 * that name came to mean another table.  SPI must be connected.
 */
static ReferencePlans *
PlansFor(Oid tgoid, const char *table, const char *column, Oid type)
{
	List	   *names = stringToQualifiedNameList(table
#if PG_VERSION_NUM >= 160000
												  , NULL
#endif
		);
	/* On Citus, this node's copy of the table: a shard's trigger reads no other node. */
	Oid			relid = KalixCitusLocalTable(RangeVarGetRelid(makeRangeVarFromNameList(names),
															  AccessShareLock, false));
	ReferencePlans *plans;
	bool		found;
	char	   *qualified;
	StringInfoData sql;
	SPIPlanPtr	match;
	SPIPlanPtr	any;

	if (reference_plans == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(ReferencePlans);
		ctl.hcxt = TopMemoryContext;
		reference_plans = hash_create("kalix reference plans", 16, &ctl,
									  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	plans = hash_search(reference_plans, &tgoid, HASH_FIND, &found);
	if (found && plans->queried == relid)
		return plans;
	if (found)
	{
		SPI_freeplan(plans->match);
		SPI_freeplan(plans->any);
		hash_search(reference_plans, &tgoid, HASH_REMOVE, NULL);
	}

	RequireKalixTable(relid);
	qualified = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
										   get_rel_name(relid));
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT 1 FROM ONLY %s x WHERE x.%s OPERATOR(pg_catalog.=) $1 FOR KEY SHARE OF x",
					 qualified, quote_identifier(column));
	match = KeepPlan(sql.data, 1, &type);
	resetStringInfo(&sql);
	appendStringInfo(&sql, "SELECT 1 FROM ONLY %s x LIMIT 1", qualified);
	any = KeepPlan(sql.data, 0, NULL);

	plans = hash_search(reference_plans, &tgoid, HASH_ENTER, &found);
	plans->queried = relid;
	plans->match = match;
	plans->any = any;
	return plans;
}

/* The owner of a table. */
static Oid
TableOwner(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "kalix_accounts: cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

/*
 * Runs a reference statement as the owner of the table it reads, with that
 * table's row-level security out of the way (as a foreign key's check runs),
 * and returns whether it found a row.  `latest` reads with the latest
 * snapshot under REPEATABLE READ and SERIALIZABLE, to see rows committed
 * after the transaction's snapshot.
 */
static bool
PlanFindsRow(ReferencePlans *plans, SPIPlanPtr plan, Datum *values, bool latest)
{
	Oid			save_userid;
	int			save_sec_context;
	Snapshot	test = InvalidSnapshot;
	Snapshot	crosscheck = InvalidSnapshot;
	int			rc;

	if (latest && IsolationUsesXactSnapshot())
	{
		CommandCounterIncrement();
		test = GetLatestSnapshot();
		crosscheck = GetTransactionSnapshot();
	}
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(TableOwner(plans->queried),
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_NOFORCE_RLS);
	rc = SPI_execute_snapshot(plan, values, NULL, test, crosscheck, false, false, 1);
	SetUserIdAndSecContext(save_userid, save_sec_context);
	if (rc < 0)
		elog(ERROR, "kalix_accounts: reference check failed: %s", SPI_result_code_string(rc));
	return SPI_processed > 0;
}

/* Checks that a trigger was fired as a reference trigger with `nargs` arguments on a kalix table. */
static TriggerData *
ReferenceTrigger(FunctionCallInfo fcinfo, const char *name, int nargs)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		trigdata->tg_trigger->tgnargs != nargs)
		elog(ERROR, "kalix_accounts: %s must be an AFTER trigger with %d arguments", name, nargs);
	RequireKalixTable(RelationGetRelid(trigdata->tg_relation));
	return trigdata;
}

/*
 * The value of column `column` in `tuple`, NULL-flagged in *isnull; the
 * column's number and type in *attnum and *type.
 */
static Datum
ColumnValue(Relation rel, HeapTuple tuple, const char *column, int *attnum, Oid *type,
			bool *isnull)
{
	TupleDesc	desc = RelationGetDescr(rel);

	*attnum = SPI_fnumber(desc, column);
	if (*attnum <= 0)
		elog(ERROR, "kalix_accounts: column \"%s\" of table \"%s\" does not exist",
			 column, RelationGetRelationName(rel));
	*type = SPI_gettypeid(desc, *attnum);
	return heap_getattr(tuple, *attnum, desc, isnull);
}

/* The text of a key value, for an error's detail. */
static char *
KeyText(Datum value, Oid type)
{
	Oid			output;
	bool		varlena;

	getTypeOutputInfo(type, &output, &varlena);
	return OidOutputFunctionCall(output, value);
}

/* Whether an UPDATE left the column's value as it was. */
static bool
KeyUnchanged(TriggerData *trigdata, int attnum, Datum value, bool isnull, Oid type)
{
	TupleDesc	desc = RelationGetDescr(trigdata->tg_relation);
	bool		other_null;
	Datum		other;
	int16		typlen;
	bool		typbyval;

	if (!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		return false;
	other = heap_getattr(trigdata->tg_newtuple, attnum, desc, &other_null);
	if (isnull || other_null)
		return isnull && other_null;
	get_typlenbyval(type, &typlen, &typbyval);
	return datumIsEqual(value, other, typbyval, typlen);
}

PG_FUNCTION_INFO_V1(kalix_reference_check);

/*
 * Constraint trigger of a referencing table, arguments (column, referenced
 * table, referenced column): the row's key must exist in the referenced
 * table, unless that table has no row at all yet (a parallel restore).  The
 * trigger's name is the constraint's.  As for a foreign key, a row version
 * that a later change of the same transaction replaced is not checked (the
 * later change is), nor an update that kept a key written before.
 */
Datum
kalix_reference_check(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = ReferenceTrigger(fcinfo, "kalix_reference_check", 3);
	Trigger    *trigger = trigdata->tg_trigger;
	Relation	rel = trigdata->tg_relation;
	bool		update = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event);
	HeapTuple	tuple;
	int			attnum;
	Oid			type;
	bool		isnull;
	Datum		value;
	ReferencePlans *plans;
	bool		found;

	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!(TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) || update))
		elog(ERROR, "kalix_accounts: kalix_reference_check must fire for each inserted or updated row");
	tuple = update ? trigdata->tg_newtuple : trigdata->tg_trigtuple;
	value = ColumnValue(rel, tuple, trigger->tgargs[0], &attnum, &type, &isnull);
	if (isnull)
		return PointerGetDatum(NULL);
	if (!table_tuple_satisfies_snapshot(rel, update ? trigdata->tg_newslot : trigdata->tg_trigslot,
										SnapshotSelf))
		return PointerGetDatum(NULL);
	if (update)
	{
		bool		old_null;
		Datum		old = heap_getattr(trigdata->tg_trigtuple, attnum, RelationGetDescr(rel), &old_null);

		if (KeyUnchanged(trigdata, attnum, old, old_null, type) &&
			!TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(trigdata->tg_trigtuple->t_data)))
			return PointerGetDatum(NULL);
	}
	if (type == UUIDOID &&
		(KeyTrusted(trigger->tgargs[1], value) ||
		 StoredReferenceTrusted(rel, tuple, trigger->tgargs[0], trigger->tgargs[1], value)))
		return PointerGetDatum(NULL);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "kalix_accounts: SPI_connect failed");
	plans = PlansFor(trigger->tgoid, trigger->tgargs[1], trigger->tgargs[2], type);
	/*
	 * Not found: accepted while the referenced table has no committed row.
	 * A table that has rows is asked again, with a snapshot taken after that
	 * answer: its data may have committed between the first two queries (a
	 * parallel restore), and the second answer then sees it.
	 */
	found = PlanFindsRow(plans, plans->match, &value, false) ||
		!PlanFindsRow(plans, plans->any, NULL, true) ||
		PlanFindsRow(plans, plans->match, &value, false);
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "kalix_accounts: SPI_finish failed");
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("insert or update on table \"%s\" violates foreign key constraint \"%s\"",
						RelationGetRelationName(rel), trigger->tgname),
				 errdetail("Key (%s)=(%s) is not present in table \"%s\".",
						   trigger->tgargs[0], KeyText(value, type),
						   get_rel_name(plans->queried)),
				 errtableconstraint(rel, trigger->tgname)));
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(kalix_reference_keep);

/*
 * Trigger of a referenced table, arguments (column, referencing table,
 * referencing column, constraint): for each deleted row, or updated row whose
 * key changed, no row of the referencing table may still hold the key; after
 * a TRUNCATE, the referencing table must be empty (truncated with it).
 */
Datum
kalix_reference_keep(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = ReferenceTrigger(fcinfo, "kalix_reference_keep", 4);
	Trigger    *trigger = trigdata->tg_trigger;
	Relation	rel = trigdata->tg_relation;
	const char *constraint = trigger->tgargs[3];
	int			attnum;
	Oid			type;
	bool		isnull;
	Datum		value = (Datum) 0;
	ReferencePlans *plans;
	bool		truncate = TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event);
	bool		referenced;

	if (!truncate)
	{
		if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
			!(TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) || TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event)))
			elog(ERROR, "kalix_accounts: kalix_reference_keep must fire for each deleted or updated row, or after TRUNCATE");
		value = ColumnValue(rel, trigdata->tg_trigtuple, trigger->tgargs[0], &attnum, &type, &isnull);
		if (isnull || KeyUnchanged(trigdata, attnum, value, isnull, type))
			return PointerGetDatum(NULL);
	}
	else
		type = SPI_gettypeid(RelationGetDescr(rel), SPI_fnumber(RelationGetDescr(rel), trigger->tgargs[0]));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "kalix_accounts: SPI_connect failed");
	plans = PlansFor(trigger->tgoid, trigger->tgargs[1], trigger->tgargs[2], type);
	referenced = truncate ? PlanFindsRow(plans, plans->any, NULL, false)
		: PlanFindsRow(plans, plans->match, &value, true);
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "kalix_accounts: SPI_finish failed");
	if (referenced && truncate)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot truncate a table referenced in a foreign key constraint"),
				 errdetail("Table \"%s\" references \"%s\".",
						   get_rel_name(plans->queried), RelationGetRelationName(rel)),
				 errhint("Truncate table \"%s\" at the same time.", get_rel_name(plans->queried))));
	if (referenced)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("update or delete on table \"%s\" violates foreign key constraint \"%s\" on table \"%s\"",
						RelationGetRelationName(rel), constraint, get_rel_name(plans->queried)),
				 errdetail("Key (%s)=(%s) is still referenced from table \"%s\".",
						   trigger->tgargs[0], KeyText(value, type), get_rel_name(plans->queried)),
				 errtableconstraint(rel, constraint)));
	return PointerGetDatum(NULL);
}
