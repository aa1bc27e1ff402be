/*
 * isolation.c
 *		Isolation of application tables: enable_isolation, disable_isolation,
 *		and the event triggers that keep it whole.
 *
 * The policies of an isolated table are defined once, in kalix_policy_defs:
 * enable_isolation creates them from it and lint() (lint.c) compares the
 * catalog with it.  Every policy has a restrictive twin for each command, so
 * whatever permissive policy the owner adds can only narrow access, plus one
 * permissive policy, kalix_permit, without which restrictive policies admit
 * nothing.  kalix_permit's expression is true, but written so that it names
 * kalix.isolated_tables: the policy depends on the extension like the
 * restrictive ones (which call kalix functions), so DROP EXTENSION ... CASCADE
 * or DROP SCHEMA kalix CASCADE drops all five, and the table, whose row-level
 * security stays enabled and forced, shows no rows at all (fail closed).  The
 * dependency comes from the expression itself, so it survives pg_dump and
 * pg_restore; the planner folds it to a constant, so it costs nothing.
 *
 * Partitions: isolating a partitioned table isolates each of its partitions
 * in the same way, and each appears in kalix.isolated_tables with the
 * parent's account column (so lint and the DDL guard see it as registered).
 * A partition created or attached later is isolated at the end of that
 * command by the ddl_command_end event trigger; a partition can be
 * un-isolated only with its parent.
 *
 * The DDL guard is an event trigger on ddl_command_start rather than a
 * ProcessUtility hook: the library loads on first use, so a hook would be
 * missing in a fresh session that runs ALTER POLICY before calling any kalix
 * function, while an event trigger calls into the library in every session.
 *
 * The functions that write are SECURITY DEFINER: they run as the extension
 * owner (a superuser), so the caller is the session's role, GetOuterUserId().
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "kalix.h"
#include "citus.h"
#include "isolation.h"
#include "write.h"

/* The policies of an isolated table; lint checks the catalog against these. */
const KalixPolicyDef kalix_policy_defs[] = {
	{"kalix_permit", '*', true, KALIX_EXPR_PERMIT, KALIX_EXPR_PERMIT},
	{"kalix_select", 'r', false, KALIX_EXPR_VISIBLE, KALIX_EXPR_NONE},
	{"kalix_insert", 'a', false, KALIX_EXPR_NONE, KALIX_EXPR_WRITE},
	{"kalix_update", 'w', false, KALIX_EXPR_MINE, KALIX_EXPR_MINE},
	{"kalix_delete", 'd', false, KALIX_EXPR_MINE, KALIX_EXPR_NONE},
};
const int	kalix_policy_def_count = lengthof(kalix_policy_defs);

/*
 * Each expression as CREATE POLICY gets it and as pg_get_expr prints it back
 * with search_path pinned to pg_catalog (%s: the quoted account column).
 * Inherited tables show the whole lineage: an index condition on the account
 * column, lineage() being evaluated once per scan.
 */
static const struct
{
	const char *source;
	const char *deparsed;
}			expr_texts[] = {
	[KALIX_EXPR_PERMIT] = {"'kalix.isolated_tables'::pg_catalog.regclass IS NOT NULL",
	"('kalix.isolated_tables'::regclass IS NOT NULL)"},
	[KALIX_EXPR_MINE] = {"%s OPERATOR(pg_catalog.=) kalix.current_account()",
	"(%s = kalix.current_account())"},
	[KALIX_EXPR_WRITE] = {"%s OPERATOR(pg_catalog.=) kalix.write_account()",
	"(%s = kalix.write_account())"},
	[KALIX_EXPR_VISIBLE] = {"%s OPERATOR(pg_catalog.=) ANY (kalix.lineage())",
	"(%s = ANY (kalix.lineage()))"},
};

/* Set while this file runs its own DDL, so its event triggers stand aside. */
static bool isolating = false;

/* The text of a policy expression for a table's account column, or NULL. */
char *
KalixPolicyExprText(KalixPolicyExpr expr, const char *column, bool inherited, bool deparsed)
{
	if (expr == KALIX_EXPR_NONE)
		return NULL;
	if (expr == KALIX_EXPR_VISIBLE && !inherited)
		expr = KALIX_EXPR_MINE;
	return psprintf(deparsed ? expr_texts[expr].deparsed : expr_texts[expr].source,
					quote_identifier(column));
}

/* The SQL command word of a pg_policy.polcmd code. */
const char *
KalixPolicyCommand(char cmd)
{
	switch (cmd)
	{
		case '*':
			return "ALL";
		case 'r':
			return "SELECT";
		case 'a':
			return "INSERT";
		case 'w':
			return "UPDATE";
		case 'd':
			return "DELETE";
	}
	return "?";
}

/* schema.table, quoted as needed: how regclass prints with search_path pinned. */
char *
KalixQualifiedRelName(Oid relid)
{
	char	   *relname = get_rel_name(relid);

	if (relname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), relname);
}

/* Raises the error of a required argument that is NULL. */
static void
RequireArgument(FunctionCallInfo fcinfo, int argno, const char *argument)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", argument)));
}

/* Raises unless the session's role owns the table. */
void
KalixCheckTableOwner(Oid relid)
{
	Oid			caller = GetOuterUserId();
	char	   *relname = get_rel_name(relid);
	bool		owner;

	if (relname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
#if PG_VERSION_NUM >= 160000
	owner = object_ownercheck(RelationRelationId, relid, caller);
#else
	owner = pg_class_ownercheck(relid, caller);
#endif
	if (!owner)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table \"%s\"", relname),
				 errdetail("Only the owner of a table can change its isolation.")));
}

/* Looks a table up in kalix.isolated_tables; fills its account column (a palloc'd copy) when asked. */
static bool
LookupRegistered(Oid relid, char **column)
{
	static KalixStatement select = {
		"SELECT account_column::pg_catalog.text FROM kalix.isolated_tables "
		"WHERE tbl OPERATOR(pg_catalog.=) $1",
		1, {REGCLASSOID}, NULL
	};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	bool		isnull;

	if (KalixExecute(&select, values, NULL) == 0)
		return false;
	if (column)
		*column = TextDatumGetCString(KalixResultDatum(0, 1, &isnull));
	return true;
}

/* Runs one DDL statement of ours (texts differ per table: no kept plan). */
static void
RunDdl(const char *sql)
{
	int			rc = SPI_execute(sql, false, 0);

	if (rc < 0)
		elog(ERROR, "kalix_accounts: \"%s\" failed: %s", sql, SPI_result_code_string(rc));
}

/*
 * Drops a kalix policy of a table if it is there (a partition un-registered
 * by a superuser may keep some; DROP POLICY IF EXISTS would say NOTICE).
 */
static void
DropPolicyIfPresent(Oid relid, const char *table, const char *policy)
{
	static KalixStatement present = {
		"SELECT 1 FROM pg_catalog.pg_policy "
		"WHERE polrelid OPERATOR(pg_catalog.=) $1 AND polname OPERATOR(pg_catalog.=) $2",
		2, {OIDOID, NAMEOID}, NULL
	};
	Datum		values[2];
	NameData	name;

	namestrcpy(&name, policy);
	values[0] = ObjectIdGetDatum(relid);
	values[1] = NameGetDatum(&name);
	if (KalixExecute(&present, values, NULL) > 0)
		RunDdl(psprintf("DROP POLICY %s ON %s", quote_identifier(policy), table));
}

/*
 * The one rule of the two layouts: whether a kalix policy exists in a layout
 * and, if so, whether it is permissive.  A table with Citus shards has no
 * kalix_permit and only permissive kalix policies: Citus re-creates the
 * shards' policies without AS RESTRICTIVE, and permissive policies mean the
 * same there, whatever it deparses.
 */
bool
KalixPolicyInLayout(const KalixPolicyDef *def, bool shards, bool *permissive)
{
	*permissive = shards || def->permissive;
	return !shards || def->using_expr != KALIX_EXPR_PERMIT;
}

/* True when a table, or the partitioned table it is a partition of, has Citus shards. */
bool
KalixShardLayout(Oid relid)
{
	if (KalixCitusHasShards(relid))
		return true;
	return get_rel_relispartition(relid) &&
		KalixShardLayout(get_partition_parent(relid, false));
}

/* Creates the kalix policies of one table in a layout, replacing those on it. */
static void
CreatePolicies(Oid relid, const char *table, const char *column, bool inherited, bool shards)
{
	for (int i = 0; i < kalix_policy_def_count; i++)
	{
		const KalixPolicyDef *def = &kalix_policy_defs[i];
		char	   *using_sql = KalixPolicyExprText(def->using_expr, column, inherited, false);
		char	   *check_sql = KalixPolicyExprText(def->check_expr, column, inherited, false);
		bool		permissive;
		StringInfoData sql;

		DropPolicyIfPresent(relid, table, def->name);
		if (!KalixPolicyInLayout(def, shards, &permissive))
			continue;
		initStringInfo(&sql);
		appendStringInfo(&sql, "CREATE POLICY %s ON %s AS %s FOR %s",
						 quote_identifier(def->name), table,
						 permissive ? "PERMISSIVE" : "RESTRICTIVE",
						 KalixPolicyCommand(def->cmd));
		if (using_sql)
			appendStringInfo(&sql, " USING (%s)", using_sql);
		if (check_sql)
			appendStringInfo(&sql, " WITH CHECK (%s)", check_sql);
		RunDdl(sql.data);
	}
}

/*
 * Registers one table and creates its policies (replacing kalix policies
 * left on it); partitions follow their parent.
 */
static void
IsolateTable(Oid relid, const char *column, bool inherited)
{
	static KalixStatement insert = {
		"INSERT INTO kalix.isolated_tables (tbl, account_column, inherited) VALUES ($1, $2, $3)",
		3, {REGCLASSOID, NAMEOID, BOOLOID}, NULL
	};
	char	   *table = KalixQualifiedRelName(relid);
	Datum		values[3];
	NameData	colname;
	List	   *children;
	ListCell   *lc;

	namestrcpy(&colname, column);
	values[0] = ObjectIdGetDatum(relid);
	values[1] = NameGetDatum(&colname);
	values[2] = BoolGetDatum(inherited);
	(void) KalixExecute(&insert, values, NULL);

	RunDdl(psprintf("ALTER TABLE %s ENABLE ROW LEVEL SECURITY", table));
	RunDdl(psprintf("ALTER TABLE %s FORCE ROW LEVEL SECURITY", table));
	CreatePolicies(relid, table, column, inherited, KalixShardLayout(relid));

	children = find_inheritance_children(relid, NoLock);
	foreach(lc, children)
	{
		Oid			child = lfirst_oid(lc);

		if (get_rel_relispartition(child) && !LookupRegistered(child, NULL))
			IsolateTable(child, column, inherited);
	}
}

/* Re-creates the kalix policies of a registered table and its partitions for Citus's shards. */
static void
UseShardLayout(Oid relid, const char *column, bool inherited)
{
	List	   *children;
	ListCell   *lc;

	CreatePolicies(relid, KalixQualifiedRelName(relid), column, inherited, true);
	children = find_inheritance_children(relid, NoLock);
	foreach(lc, children)
	{
		Oid			child = lfirst_oid(lc);

		if (get_rel_relispartition(child) && LookupRegistered(child, NULL))
			UseShardLayout(child, column, inherited);
	}
}

/*
 * Switches an isolated table to the layout of a table with shards, before
 * Citus creates them from its policies (kalix.distribute_table).  Needs an
 * SPI connection.
 */
void
KalixUseShardLayout(Oid relid, const char *column, bool inherited)
{
	isolating = true;
	PG_TRY();
	{
		UseShardLayout(relid, column, inherited);
	}
	PG_FINALLY();
	{
		isolating = false;
	}
	PG_END_TRY();
}

/* Unregisters a table and drops its kalix policies, with its partitions. */
static void
UnisolateTable(Oid relid)
{
	static KalixStatement delete = {
		"DELETE FROM kalix.isolated_tables WHERE tbl OPERATOR(pg_catalog.=) $1",
		1, {REGCLASSOID}, NULL
	};
	static KalixStatement own_policies = {
		"SELECT 1 FROM pg_catalog.pg_policy WHERE polrelid OPERATOR(pg_catalog.=) $1",
		1, {OIDOID}, NULL
	};
	char	   *table = KalixQualifiedRelName(relid);
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	List	   *children;
	ListCell   *lc;

	(void) KalixExecute(&delete, values, NULL);
	for (int i = 0; i < kalix_policy_def_count; i++)
		DropPolicyIfPresent(relid, table, kalix_policy_defs[i].name);
	/* Row-level security stays on if the owner has policies of their own. */
	if (KalixExecute(&own_policies, values, NULL) == 0)
	{
		RunDdl(psprintf("ALTER TABLE %s NO FORCE ROW LEVEL SECURITY", table));
		RunDdl(psprintf("ALTER TABLE %s DISABLE ROW LEVEL SECURITY", table));
	}

	children = find_inheritance_children(relid, NoLock);
	foreach(lc, children)
	{
		Oid			child = lfirst_oid(lc);

		if (get_rel_relispartition(child) && LookupRegistered(child, NULL))
			UnisolateTable(child);
	}
}

/* The registered parent of a partition, or InvalidOid. */
static Oid
RegisteredParent(Oid relid)
{
	Oid			parent;

	if (!get_rel_relispartition(relid))
		return InvalidOid;
	parent = get_partition_parent(relid, false);
	return LookupRegistered(parent, NULL) ? parent : InvalidOid;
}

/*
 * Reports the constraints and unique indexes of a table that leave out its
 * account column: within one account they work, but they span every account,
 * so a refused insert or a refused delete tells that a hidden row exists.
 * Needs an SPI connection.
 */
void
KalixConstraintProblems(Oid relid, const char *column,
						void (*report) (const char *what, const char *why, void *arg),
						void *arg)
{
	static KalixStatement select = {
		"SELECT co.contype::pg_catalog.text, co.conname::pg_catalog.text "
		"FROM pg_catalog.pg_constraint co JOIN pg_catalog.pg_attribute a "
		"  ON a.attrelid OPERATOR(pg_catalog.=) co.conrelid AND a.attname OPERATOR(pg_catalog.=) $2 "
		"WHERE co.conrelid OPERATOR(pg_catalog.=) $1 "
		"  AND co.contype OPERATOR(pg_catalog.=) ANY ('{p,u,x,f}'::pg_catalog.\"char\"[]) "
		"  AND NOT (a.attnum OPERATOR(pg_catalog.=) ANY (co.conkey)) "
		"UNION ALL "
		"SELECT 'i', ic.relname::pg_catalog.text "
		"FROM pg_catalog.pg_index i "
		"JOIN pg_catalog.pg_class ic ON ic.oid OPERATOR(pg_catalog.=) i.indexrelid "
		"JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid "
		"  AND a.attname OPERATOR(pg_catalog.=) $2 "
		"WHERE i.indrelid OPERATOR(pg_catalog.=) $1 AND i.indisunique "
		"  AND NOT (a.attnum OPERATOR(pg_catalog.=) ANY (i.indkey::pg_catalog.int2[])) "
		"  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c "
		"                  WHERE c.conindid OPERATOR(pg_catalog.=) i.indexrelid "
		"                    AND c.conrelid OPERATOR(pg_catalog.=) i.indrelid) "
		"ORDER BY 2",
		2, {OIDOID, NAMEOID}, NULL
	};
	Datum		values[2];
	NameData	colname;
	uint64		n;
	char	  **kinds;
	char	  **names;

	namestrcpy(&colname, column);
	values[0] = ObjectIdGetDatum(relid);
	values[1] = NameGetDatum(&colname);
	n = KalixExecute(&select, values, NULL);
	/* Copied out first: the report may run statements of its own. */
	kinds = palloc(sizeof(char *) * (n + 1));
	names = palloc(sizeof(char *) * (n + 1));
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;

		kinds[i] = TextDatumGetCString(KalixResultDatum(i, 1, &isnull));
		names[i] = TextDatumGetCString(KalixResultDatum(i, 2, &isnull));
	}
	for (uint64 i = 0; i < n; i++)
	{
		const char *name = quote_identifier(names[i]);

		switch (kinds[i][0])
		{
			case 'p':
				report(psprintf("primary key %s", name),
					   "inserting a key that another account uses fails, which tells that its row exists", arg);
				break;
			case 'u':
				report(psprintf("unique constraint %s", name),
					   "inserting a value that another account uses fails (or ON CONFLICT skips it), which tells that its row exists", arg);
				break;
			case 'i':
				report(psprintf("unique index %s", name),
					   "inserting a value that another account uses fails (or ON CONFLICT skips it), which tells that its row exists", arg);
				break;
			case 'x':
				report(psprintf("exclusion constraint %s", name),
					   "a row that conflicts with another account's row is refused, which tells that the row exists", arg);
				break;
			case 'f':
				report(psprintf("foreign key %s", name),
					   "a row can reference a row of another account, which that account then cannot delete", arg);
				break;
		}
	}
}

/* Warns about one constraint that leaves out the account column. */
static void
WarnConstraint(const char *what, const char *why, void *arg)
{
	const char *column = (const char *) arg;

	ereport(WARNING,
			(errmsg("%s leaves out the account column \"%s\"", what, column),
			 errdetail("It spans every account: %s.", why),
			 errhint("Add column \"%s\" to it, so that it holds within each account.", column)));
}

/*
 * Writes the audit row of an isolation enabled by enable_isolation or, for a
 * partition created or attached later, by the event trigger (partition_of).
 */
static void
AuditEnable(const char *table, const char *column, bool inherited, const char *partition_of)
{
	StringInfoData detail;

	KalixJsonBegin(&detail);
	KalixJsonText(&detail, "table", table);
	KalixJsonText(&detail, "account_column", column);
	/* write.h has no boolean member yet; JSON true/false, unquoted. */
	appendStringInfo(&detail, ", \"inherited\": %s", inherited ? "true" : "false");
	if (partition_of)
		KalixJsonText(&detail, "partition_of", partition_of);
	KalixJsonEnd(&detail);
	KalixAudit("enable_isolation", NULL, detail.data);
}

PG_FUNCTION_INFO_V1(kalix_enable_isolation);

/* SQL: kalix.enable_isolation(tbl, account_column, inherited) -- for the table's owner. */
Datum
kalix_enable_isolation(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *table;
	char	   *column;
	bool		inherited;
	char		relkind;
	AttrNumber	attnum;
	Oid			atttype;
	static KalixStatement leading_index = {
		"SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid OPERATOR(pg_catalog.=) $1 "
		"AND i.indkey[0] OPERATOR(pg_catalog.=) $2",
		2, {OIDOID, INT2OID}, NULL
	};
	Datum		values[2];

	/* The owner check comes first: nothing is said about others' tables. */
	RequireArgument(fcinfo, 0, "tbl");
	relid = PG_GETARG_OID(0);
	KalixCheckTableOwner(relid);
	RequireArgument(fcinfo, 1, "account_column");
	RequireArgument(fcinfo, 2, "inherited");
	column = pstrdup(NameStr(*PG_GETARG_NAME(1)));
	inherited = PG_GETARG_BOOL(2);
	table = KalixQualifiedRelName(relid);

	KalixWriteBegin();
	if (LookupRegistered(relid, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("table \"%s\" is already isolated", table),
				 errhint("Call kalix.disable_isolation() first to change how it is isolated.")));
	relkind = get_rel_relkind(relid);
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", table)));
	attnum = get_attnum(relid, column);
	if (attnum == InvalidAttrNumber || attnum < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of table \"%s\" does not exist", column, table)));
	atttype = get_atttype(relid, attnum);
	if (atttype != UUIDOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of table \"%s\" has type %s, not uuid",
						column, table, format_type_be(atttype)),
				 errdetail("The account column holds kalix account ids.")));

	values[0] = ObjectIdGetDatum(relid);
	values[1] = Int16GetDatum(attnum);
	if (KalixExecute(&leading_index, values, NULL) == 0)
		ereport(WARNING,
				(errmsg("table \"%s\" has no index leading with column \"%s\"", table, column),
				 errdetail("Every query on an isolated table filters on its account column."),
				 errhint("Create one, for example: CREATE INDEX ON %s (%s);",
						 table, quote_identifier(column))));
	KalixConstraintProblems(relid, column, WarnConstraint, column);

	isolating = true;
	PG_TRY();
	{
		IsolateTable(relid, column, inherited);
	}
	PG_FINALLY();
	{
		isolating = false;
	}
	PG_END_TRY();

	AuditEnable(table, column, inherited, NULL);
	KalixWriteEnd();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(kalix_disable_isolation);

/* SQL: kalix.disable_isolation(tbl) -- removes the kalix policies of a table. */
Datum
kalix_disable_isolation(PG_FUNCTION_ARGS)
{
	Oid			relid;
	Oid			parent;
	char	   *table;
	StringInfoData detail;

	RequireArgument(fcinfo, 0, "tbl");
	relid = PG_GETARG_OID(0);
	KalixCheckTableOwner(relid);
	table = KalixQualifiedRelName(relid);

	KalixWriteBegin();
	if (!LookupRegistered(relid, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("table \"%s\" is not isolated", table)));
	parent = RegisteredParent(relid);
	if (OidIsValid(parent))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("table \"%s\" is a partition of isolated table \"%s\"",
						table, KalixQualifiedRelName(parent)),
				 errdetail("A partition never shows rows that its parent's policies hide."),
				 errhint("Call kalix.disable_isolation('%s') to disable the whole table.",
						 KalixQualifiedRelName(parent))));

	isolating = true;
	PG_TRY();
	{
		UnisolateTable(relid);
	}
	PG_FINALLY();
	{
		isolating = false;
	}
	PG_END_TRY();

	KalixJsonBegin(&detail);
	KalixJsonText(&detail, "table", table);
	KalixJsonEnd(&detail);
	KalixAudit("disable_isolation", NULL, detail.data);
	KalixWriteEnd();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(kalix_forget_dropped_tables);

/* Event trigger on sql_drop: a dropped table leaves the registry (dumps never name a missing OID). */
Datum
kalix_forget_dropped_tables(PG_FUNCTION_ARGS)
{
	static KalixStatement delete = {
		"DELETE FROM kalix.isolated_tables t "
		"USING pg_catalog.pg_event_trigger_dropped_objects() d "
		"WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
		"AND d.objsubid OPERATOR(pg_catalog.=) 0 "
		"AND d.objid OPERATOR(pg_catalog.=) t.tbl::pg_catalog.oid",
		0, {InvalidOid}, NULL
	};

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		elog(ERROR, "kalix_forget_dropped_tables: not called by the event trigger manager");
	KalixWriteBegin();
	(void) KalixExecute(&delete, NULL, NULL);
	KalixWriteEnd();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(kalix_isolate_new_partitions);

/*
 * Event trigger on ddl_command_end of CREATE TABLE and ALTER TABLE: isolates
 * every partition of a registered table that is not registered yet (created
 * with PARTITION OF, or attached), as its nearest registered ancestor is.
 */
Datum
kalix_isolate_new_partitions(PG_FUNCTION_ARGS)
{
	static KalixStatement missing = {
		"SELECT DISTINCT ON (p.relid) p.relid::pg_catalog.oid, "
		"       r.account_column::pg_catalog.text, r.inherited "
		"FROM kalix.isolated_tables r, LATERAL pg_catalog.pg_partition_tree(r.tbl) p "
		"WHERE p.level OPERATOR(pg_catalog.>) 0 "
		"  AND NOT EXISTS (SELECT 1 FROM kalix.isolated_tables x "
		"                  WHERE x.tbl OPERATOR(pg_catalog.=) p.relid) "
		"ORDER BY p.relid, p.level",
		0, {InvalidOid}, NULL
	};
	uint64		n;
	Oid		   *relids;
	char	  **columns;
	bool	   *inherited;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		elog(ERROR, "kalix_isolate_new_partitions: not called by the event trigger manager");
	if (isolating)
		PG_RETURN_VOID();

	KalixWriteBegin();
	n = KalixExecute(&missing, NULL, NULL);
	relids = palloc(sizeof(Oid) * (n + 1));
	columns = palloc(sizeof(char *) * (n + 1));
	inherited = palloc(sizeof(bool) * (n + 1));
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;

		relids[i] = DatumGetObjectId(KalixResultDatum(i, 1, &isnull));
		columns[i] = TextDatumGetCString(KalixResultDatum(i, 2, &isnull));
		inherited[i] = DatumGetBool(KalixResultDatum(i, 3, &isnull));
	}

	isolating = true;
	PG_TRY();
	{
		for (uint64 i = 0; i < n; i++)
		{
			char	   *table = KalixQualifiedRelName(relids[i]);

			/* A sub-partitioned partition isolated its own partitions already. */
			if (LookupRegistered(relids[i], NULL))
				continue;
			IsolateTable(relids[i], columns[i], inherited[i]);
			AuditEnable(table, columns[i], inherited[i],
						KalixQualifiedRelName(get_partition_parent(relids[i], false)));
		}
	}
	PG_FINALLY();
	{
		isolating = false;
	}
	PG_END_TRY();
	KalixWriteEnd();
	PG_RETURN_VOID();
}

/* Refuses a change to the isolation of a registered table (see the file header). */
static void
RefuseIsolationDdl(RangeVar *relation, const char *column_change)
{
	Oid			relid = RangeVarGetRelid(relation, NoLock, true);
	char	   *column;
	char	   *table;
	Oid			parent;

	if (!OidIsValid(relid) || !LookupRegistered(relid, &column))
		return;
	if (column_change != NULL && strcmp(column_change, column) != 0)
		return;
	table = KalixQualifiedRelName(relid);
	parent = RegisteredParent(relid);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("table \"%s\" is isolated by kalix_accounts", table),
			 errdetail("Its row-level security, its policies and its account column \"%s\" change only through kalix.enable_isolation and kalix.disable_isolation.",
					   column),
			 errhint("Call kalix.disable_isolation('%s') first, then isolate the table again.",
					 OidIsValid(parent) ? KalixQualifiedRelName(parent) : table)));
}

PG_FUNCTION_INFO_V1(kalix_guard_isolation_ddl);

/*
 * Event trigger on ddl_command_start of ALTER TABLE and CREATE, ALTER and
 * DROP POLICY: a role that is not a superuser cannot change the policies,
 * the row-level security or the account column of a registered table (a
 * superuser can; lint() reports what it changed).  Runs as the caller.
 */
Datum
kalix_guard_isolation_ddl(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	Node	   *parsetree;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		elog(ERROR, "kalix_guard_isolation_ddl: not called by the event trigger manager");
	if (superuser())
		PG_RETURN_VOID();
	trigdata = (EventTriggerData *) fcinfo->context;
	parsetree = trigdata->parsetree;

	KalixWriteBegin();
	switch (nodeTag(parsetree))
	{
		case T_CreatePolicyStmt:
			RefuseIsolationDdl(((CreatePolicyStmt *) parsetree)->table, NULL);
			break;
		case T_AlterPolicyStmt:
			RefuseIsolationDdl(((AlterPolicyStmt *) parsetree)->table, NULL);
			break;
		case T_DropStmt:
			{
				DropStmt   *drop = (DropStmt *) parsetree;
				ListCell   *lc;

				if (drop->removeType != OBJECT_POLICY)
					break;
				foreach(lc, drop->objects)
				{
					List	   *names = list_copy((List *) lfirst(lc));

					names = list_truncate(names, list_length(names) - 1);
					RefuseIsolationDdl(makeRangeVarFromNameList(names), NULL);
				}
				break;
			}
		case T_RenameStmt:
			{
				RenameStmt *rename = (RenameStmt *) parsetree;

				if (rename->renameType == OBJECT_POLICY)
					RefuseIsolationDdl(rename->relation, NULL);
				else if (rename->renameType == OBJECT_COLUMN && rename->relation)
					RefuseIsolationDdl(rename->relation, rename->subname);
				break;
			}
		case T_AlterTableStmt:
			{
				AlterTableStmt *alter = (AlterTableStmt *) parsetree;
				ListCell   *lc;

				foreach(lc, alter->cmds)
				{
					AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);

					if (cmd->subtype == AT_DisableRowSecurity ||
						cmd->subtype == AT_NoForceRowSecurity)
						RefuseIsolationDdl(alter->relation, NULL);
					else if (cmd->subtype == AT_DropColumn ||
							 cmd->subtype == AT_AlterColumnType)
						RefuseIsolationDdl(alter->relation, cmd->name);
				}
				break;
			}
		default:
			break;
	}
	KalixWriteEnd();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(kalix_write_account);

/*
 * SQL: kalix.write_account() -- the current account, in the write check of
 * kalix_insert.  With none, a row would be refused anyway: this says why,
 * instead of "new row violates row-level security policy".
 */
Datum
kalix_write_account(PG_FUNCTION_ARGS)
{
	pg_uuid_t	account;

	if (!KalixCurrentAccount(&account))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("no current account"),
				 errdetail("An isolated table accepts new rows only in the current account."),
				 errhint("Choose the account first, with kalix.switch_account() or SET kalix.current_account.")));
	return KalixUuidDatum(&account);
}

PG_FUNCTION_INFO_V1(kalix_check_table_owner);

/* 1.0's kalix.check_table_owner(tbl): kept for 1.0 databases not yet updated. */
Datum
kalix_check_table_owner(PG_FUNCTION_ARGS)
{
	KalixCheckTableOwner(PG_GETARG_OID(0));
	PG_RETURN_VOID();
}
