/*
 * citus.c
 *		kalix_accounts on Citus 13 (SPEC section 8).
 *
 * Citus is never linked against: it is found at run time through its
 * catalog tables (pg_dist_partition and the others, in schema pg_catalog of
 * a database that ran CREATE EXTENSION citus), read with plain heap and
 * index scans like any table.
 *
 * The kalix tables become reference tables (kalix.distribute_table): every
 * node holds a full copy, the shard kalix.<table>_<shardid>, while the
 * table itself (the "shell") stays empty.  The backend cache and the
 * reference triggers read that local shard; the relcache invalidations
 * Citus sends for the shell when its metadata changes make the cache
 * resolve the shard again.  kalix.isolated_tables stays a table of the
 * coordinator's alone: its event triggers and enable_isolation write it
 * there.
 *
 * Citus re-creates a table's policies on its shards without AS RESTRICTIVE,
 * so a table with shards gets permissive-only kalix policies (isolation.c
 * keeps the one rule), which mean the same on every shard, also after a
 * shard move; lint checks them on every placement.
 *
 * The identity reaches the workers as SET LOCAL statements, which Citus's
 * utility hook sends to the transaction's connections and replays on the
 * ones it opens later: KalixCitusPropagateIdentity issues them whenever the
 * values differ from what the workers were last told in this transaction.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "kalix.h"
#include "citus.h"
#include "errors.h"
#include "isolation.h"
#include "write.h"

/* A Citus catalog table (or index) of this database; InvalidOid without Citus. */
static Oid
CitusCatalog(const char *name)
{
	return get_relname_relid(name, PG_CATALOG_NAMESPACE);
}

/* Whether Citus is installed here: -1 until looked up again. */
static int	citus_loaded = -1;

/* Syscache callback: a change to pg_class may be Citus's catalog coming or going. */
static void
ForgetCitusLoaded(Datum arg, int cacheid, uint32 hashvalue)
{
	citus_loaded = -1;
}

/*
 * True when Citus is installed in this database.  The executor hook asks
 * before every statement of a transaction block, so the answer is kept
 * until pg_class changes.
 */
static bool
CitusLoaded(void)
{
	static bool registered = false;

	if (!registered)
	{
		CacheRegisterSyscacheCallback(RELNAMENSP, ForgetCitusLoaded, (Datum) 0);
		registered = true;
	}
	if (citus_loaded < 0)
		citus_loaded = OidIsValid(CitusCatalog("pg_dist_partition")) ? 1 : 0;
	return citus_loaded == 1;
}

/*
 * Calls visit on each row of a Citus catalog table whose column equals
 * value (through the index when there is one), until visit returns false.
 */
static void
ScanCitusCatalog(const char *catalog, const char *index, const char *column,
				 RegProcedure eq, Datum value,
				 bool (*visit) (HeapTuple tuple, TupleDesc desc, void *arg), void *arg)
{
	Oid			relid = CitusCatalog(catalog);
	Oid			indexid = index ? CitusCatalog(index) : InvalidOid;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	int			nkeys = column ? 1 : 0;

	if (!OidIsValid(relid))
		return;
	rel = table_open(relid, AccessShareLock);
	/* A heap attribute number: systable_beginscan maps it to the index's column. */
	if (column)
		ScanKeyInit(&key, get_attnum(relid, column), BTEqualStrategyNumber, eq, value);
	scan = systable_beginscan(rel, indexid, OidIsValid(indexid), NULL, nkeys, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		CHECK_FOR_INTERRUPTS();
		if (!visit(tuple, RelationGetDescr(rel), arg))
			break;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/* One column of a Citus catalog row, by name; isnull when absent. */
static Datum
CitusColumn(HeapTuple tuple, TupleDesc desc, const char *column, bool *isnull)
{
	for (int i = 0; i < desc->natts; i++)
		if (strcmp(NameStr(TupleDescAttr(desc, i)->attname), column) == 0)
			return heap_getattr(tuple, i + 1, desc, isnull);
	*isnull = true;
	return (Datum) 0;
}

/* Takes the partmethod of a pg_dist_partition row. */
static bool
VisitPartition(HeapTuple tuple, TupleDesc desc, void *arg)
{
	bool		isnull;
	Datum		method = CitusColumn(tuple, desc, "partmethod", &isnull);

	*(char *) arg = isnull ? '?' : DatumGetChar(method);
	return false;
}

/* Citus's distribution method of a table ('h', 'n', ...), or '\0' for a table Citus does not know. */
static char
PartitionMethod(Oid relid)
{
	char		method = '\0';

	ScanCitusCatalog("pg_dist_partition", "pg_dist_partition_logical_relid_index",
					 "logicalrelid", F_OIDEQ, ObjectIdGetDatum(relid), VisitPartition, &method);
	return method;
}

/* True when Citus keeps the table's rows in shards (distributed, reference or Citus-local). */
bool
KalixCitusHasShards(Oid relid)
{
	return CitusLoaded() && PartitionMethod(relid) != '\0';
}

/* What a scan of the shards of a single-shard table collects. */
typedef struct ShardScan
{
	int			count;
	int64		shardid;
} ShardScan;

/* Takes the shardid of a pg_dist_shard row. */
static bool
VisitShard(HeapTuple tuple, TupleDesc desc, void *arg)
{
	ShardScan  *scan = arg;
	bool		isnull;
	Datum		id = CitusColumn(tuple, desc, "shardid", &isnull);

	if (!isnull)
		scan->shardid = DatumGetInt64(id);
	scan->count++;
	return true;
}

/* Takes the groupid of pg_dist_local_group. */
static bool
VisitLocalGroup(HeapTuple tuple, TupleDesc desc, void *arg)
{
	bool		isnull;
	Datum		group = CitusColumn(tuple, desc, "groupid", &isnull);

	if (!isnull)
		*(int32 *) arg = DatumGetInt32(group);
	return false;
}

/* This node's group (0 on the coordinator), -1 when Citus does not say. */
static int32
LocalGroup(void)
{
	int32		group = -1;

	ScanCitusCatalog("pg_dist_local_group", NULL, NULL, InvalidOid, (Datum) 0,
					 VisitLocalGroup, &group);
	return group;
}

/* What a scan of a shard's placements looks for. */
typedef struct PlacementScan
{
	int32		group;
	bool		found;
} PlacementScan;

/* Notes a placement of the shard on this node's group. */
static bool
VisitPlacement(HeapTuple tuple, TupleDesc desc, void *arg)
{
	PlacementScan *scan = arg;
	bool		isnull;
	Datum		group = CitusColumn(tuple, desc, "groupid", &isnull);

	if (!isnull && DatumGetInt32(group) == scan->group)
		scan->found = true;
	return !scan->found;
}

/*
 * The shard of this node holding the rows of a single-shard Citus table (a
 * reference or Citus-local table); false for any other table.  Raises when
 * this node has no copy: its empty shell would answer "no such login".
 */
static bool
LocalShard(Oid relid, int64 *shardid)
{
	ShardScan	shards = {0, 0};
	PlacementScan placements;

	if (!CitusLoaded() || PartitionMethod(relid) != 'n')
		return false;
	ScanCitusCatalog("pg_dist_shard", "pg_dist_shard_logical_relid_index", "logicalrelid",
					 F_OIDEQ, ObjectIdGetDatum(relid), VisitShard, &shards);
	if (shards.count != 1)
		return false;
	placements.group = LocalGroup();
	placements.found = false;
	ScanCitusCatalog("pg_dist_placement", "pg_dist_placement_shardid_index", "shardid",
					 F_INT8EQ, Int64GetDatum(shards.shardid), VisitPlacement, &placements);
	if (!placements.found)
		KalixRaiseNoLocalCopy(get_rel_name(relid));
	*shardid = shards.shardid;
	return true;
}

/*
 * The name on this node of an object of a table (the table itself or one of
 * its indexes): Citus names a shard's objects <name>_<shardid>.
 */
char *
KalixCitusLocalName(Oid relid, const char *name)
{
	int64		shardid;

	if (!LocalShard(relid, &shardid))
		return pstrdup(name);
	return psprintf("%s_" INT64_FORMAT, name, shardid);
}

/* The relation of this node holding a table's rows: its local shard on Citus, else the table. */
Oid
KalixCitusLocalTable(Oid relid)
{
	int64		shardid;
	Oid			shard;

	if (!LocalShard(relid, &shardid))
		return relid;
	shard = get_relname_relid(psprintf("%s_" INT64_FORMAT, get_rel_name(relid), shardid),
							  get_rel_namespace(relid));
	if (!OidIsValid(shard))
		KalixRaiseNoLocalCopy(get_rel_name(relid));
	return shard;
}

/* Makes every table of the extension but kalix.isolated_tables a reference table, in one transaction. */
static void
MakeReferenceTables(void)
{
	static KalixStatement kalix_tables = {
		"SELECT c.oid FROM pg_catalog.pg_class c "
		"JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
		"  AND d.objid OPERATOR(pg_catalog.=) c.oid AND d.deptype OPERATOR(pg_catalog.=) 'e' "
		"JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid "
		"  AND e.extname OPERATOR(pg_catalog.=) 'kalix_accounts' "
		"WHERE c.relkind OPERATOR(pg_catalog.=) 'r' AND c.relname OPERATOR(pg_catalog.<>) 'isolated_tables' "
		"  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p "
		"                  WHERE p.logicalrelid OPERATOR(pg_catalog.=) c.oid) "
		"ORDER BY pg_catalog.array_position('{logins,accounts,memberships}'::pg_catalog.text[], "
		"                                   c.relname::pg_catalog.text), c.relname",
		0, {InvalidOid}, NULL
	};
	static KalixStatement reference = {
		"SELECT pg_catalog.create_reference_table($1)", 1, {REGCLASSOID}, NULL
	};
	uint64		n = KalixExecute(&kalix_tables, NULL, NULL);
	Oid		   *relids = palloc(sizeof(Oid) * (n + 1));
	int			nest;

	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;

		relids[i] = DatumGetObjectId(KalixResultDatum(i, 1, &isnull));
	}
	/*
	 * The cache triggers only invalidate the node's own relcache, and the
	 * reference triggers read the node's own copy: safe on every shard.  The
	 * NOTICEs about the rows left in the shells are not the caller's affair:
	 * nothing reads the shells.
	 */
	nest = NewGUCNestLevel();
	(void) set_config_option("citus.enable_unsafe_triggers", "on", PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("client_min_messages", "warning", PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	for (uint64 i = 0; i < n; i++)
	{
		Datum		values[1] = {ObjectIdGetDatum(relids[i])};

		(void) KalixExecute(&reference, values, NULL);
	}
	AtEOXact_GUC(true, nest);
}

PG_FUNCTION_INFO_V1(kalix_distribute_table);

/*
 * SQL: kalix.distribute_table(tbl, reference) -- for the table's owner, on
 * the coordinator: makes the kalix tables reference tables (once), switches
 * the isolated table to the policies of a table with shards, then
 * distributes it by its account column (or, reference, copies it to every
 * node).
 */
Datum
kalix_distribute_table(PG_FUNCTION_ARGS)
{
	static KalixStatement registered = {
		"SELECT account_column::pg_catalog.text, inherited FROM kalix.isolated_tables "
		"WHERE tbl OPERATOR(pg_catalog.=) $1",
		1, {REGCLASSOID}, NULL
	};
	static KalixStatement distribute = {
		"SELECT pg_catalog.create_distributed_table($1, $2)", 2, {REGCLASSOID, TEXTOID}, NULL
	};
	static KalixStatement reference = {
		"SELECT pg_catalog.create_reference_table($1)", 1, {REGCLASSOID}, NULL
	};
	Oid			relid;
	bool		as_reference;
	char	   *table;
	char	   *column;
	bool		inherited;
	bool		isnull;
	Datum		values[2];
	StringInfoData detail;

	if (PG_ARGISNULL(0))
		KalixRaiseNullArgument("tbl");
	if (PG_ARGISNULL(1))
		KalixRaiseNullArgument("reference");
	relid = PG_GETARG_OID(0);
	as_reference = PG_GETARG_BOOL(1);
	KalixCheckTableOwner(relid);
	table = KalixQualifiedRelName(relid);
	if (!CitusLoaded())
		KalixRaiseNoCitus();
	if (LocalGroup() != 0)
		KalixRaiseNotCoordinator();

	KalixWriteBegin();
	if (get_rel_relispartition(relid))
		KalixRaiseDistributePartition(table);
	values[0] = ObjectIdGetDatum(relid);
	if (KalixExecute(&registered, values, NULL) == 0)
		KalixRaiseNotIsolated(table);
	column = TextDatumGetCString(KalixResultDatum(0, 1, &isnull));
	inherited = DatumGetBool(KalixResultDatum(0, 2, &isnull));
	if (KalixCitusHasShards(relid))
		KalixRaiseAlreadyDistributed(table);

	MakeReferenceTables();
	KalixUseShardLayout(relid, column, inherited);
	if (as_reference)
		(void) KalixExecute(&reference, values, NULL);
	else
	{
		values[1] = CStringGetTextDatum(column);
		(void) KalixExecute(&distribute, values, NULL);
	}

	KalixJsonBegin(&detail);
	KalixJsonText(&detail, "table", table);
	KalixJsonText(&detail, "account_column", column);
	KalixJsonBool(&detail, "reference", as_reference);
	KalixJsonEnd(&detail);
	KalixAudit("distribute_table", NULL, detail.data);
	KalixWriteEnd();
	PG_RETURN_VOID();
}

/*
 * What every placement of a table should say about its policies: each
 * policy's name, command, kind, roles and expressions, one line per policy
 * (%s: the relation, as run_command_on_placements fills it in).
 */
static const char *const policies_of_relation =
"SELECT coalesce(pg_catalog.string_agg(pg_catalog.format('%%s %%s %%s %%s USING %%s CHECK %%s', "
"    p.polname, p.polcmd, CASE WHEN p.polpermissive THEN 'permissive' ELSE 'restrictive' END, "
"    (SELECT pg_catalog.string_agg(CASE WHEN r OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC' "
"                                  ELSE r::pg_catalog.regrole::pg_catalog.text END, ',') "
"     FROM pg_catalog.unnest(p.polroles) r), "
"    pg_catalog.pg_get_expr(p.polqual, p.polrelid), pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)), "
"    '; ' ORDER BY p.polname), '') "
"FROM pg_catalog.pg_policy p WHERE p.polrelid OPERATOR(pg_catalog.=) '%s'::pg_catalog.regclass";

/*
 * lint() of a table with Citus shards: every permissive policy that is not
 * a kalix one (it would widen them), and every placement whose policies are
 * not the table's.  Needs an SPI connection.
 */
void
KalixCitusLintTable(Oid relid, const char *table,
					void (*report) (const char *object, const char *problem, void *arg),
					void *arg)
{
	static KalixStatement others = {
		"SELECT polname::pg_catalog.text FROM pg_catalog.pg_policy "
		"WHERE polrelid OPERATOR(pg_catalog.=) $1 AND polpermissive "
		"  AND NOT polname OPERATOR(pg_catalog.=) ANY ('{kalix_select,kalix_insert,kalix_update,kalix_delete}'::pg_catalog.name[]) "
		"ORDER BY polname",
		1, {OIDOID}, NULL
	};
	static KalixStatement placements = {
		"SELECT r.shardid, r.nodename, r.nodeport, r.success, r.result "
		"FROM pg_catalog.run_command_on_placements($1, $2) r "
		"WHERE NOT r.success OR r.result OPERATOR(pg_catalog.<>) $3 "
		"ORDER BY r.shardid, r.nodename, r.nodeport",
		3, {REGCLASSOID, TEXTOID, TEXTOID}, NULL
	};
	Datum		values[3] = {ObjectIdGetDatum(relid)};
	uint64		n;
	char	   *expected;
	List	   *problems = NIL;
	ListCell   *lc;
	bool		isnull;

	if (!KalixShardLayout(relid))
		return;
	n = KalixExecute(&others, values, NULL);
	for (uint64 i = 0; i < n; i++)
		problems = lappend(problems,
						   psprintf("permissive policy %s widens the kalix policies, which are permissive on a table with Citus shards: it admits rows of other accounts",
									quote_identifier(TextDatumGetCString(KalixResultDatum(i, 1, &isnull)))));
	if (KalixCitusHasShards(relid))
	{
		/* The table's own policies, read as each placement's are. */
		if (SPI_execute(psprintf(policies_of_relation, table), true, 1) != SPI_OK_SELECT)
			elog(ERROR, "kalix_accounts: reading the policies of \"%s\" failed", table);
		expected = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
													 1, &isnull));
		values[1] = CStringGetTextDatum(policies_of_relation);
		values[2] = CStringGetTextDatum(expected);
		n = KalixExecute(&placements, values, NULL);
		for (uint64 i = 0; i < n; i++)
		{
			int64		shardid = DatumGetInt64(KalixResultDatum(i, 1, &isnull));
			char	   *node = TextDatumGetCString(KalixResultDatum(i, 2, &isnull));
			int32		port = DatumGetInt32(KalixResultDatum(i, 3, &isnull));
			bool		success = DatumGetBool(KalixResultDatum(i, 4, &isnull));
			Datum		result = KalixResultDatum(i, 5, &isnull);
			char	   *found = isnull ? "" : TextDatumGetCString(result);

			problems = lappend(problems,
							   success ?
							   psprintf("the policies of shard " INT64_FORMAT " on %s:%d differ from the table's: \"%s\" instead of \"%s\"",
										shardid, node, port, found, expected) :
							   psprintf("the policies of shard " INT64_FORMAT " on %s:%d could not be read: %s",
										shardid, node, port, found));
		}
	}
	foreach(lc, problems)
		report(table, lfirst(lc), arg);
}

/*
 * lint() on the Citus coordinator: every node must grant SET on
 * kalix.current_login as the coordinator does, or the application cannot
 * tell that node's shards its login.  Needs an SPI connection.
 */
void
KalixCitusLintNodes(void (*report) (const char *object, const char *problem, void *arg),
					void *arg)
{
	static KalixStatement grants = {
		"WITH here AS ( "
		"    SELECT coalesce((SELECT paracl::pg_catalog.text FROM pg_catalog.pg_parameter_acl "
		"                                WHERE parname OPERATOR(pg_catalog.=) 'kalix.current_login'), '') AS acl) "
		"SELECT n.nodename, n.nodeport, r.success, r.result, here.acl "
		"FROM pg_catalog.run_command_on_all_nodes($1) r "
		"JOIN pg_catalog.pg_dist_node n ON n.nodeid OPERATOR(pg_catalog.=) r.nodeid, here "
		"WHERE n.groupid OPERATOR(pg_catalog.<>) 0 "
		"  AND (NOT r.success OR r.result OPERATOR(pg_catalog.<>) here.acl) "
		"ORDER BY n.nodename, n.nodeport",
		1, {TEXTOID}, NULL
	};
	Datum		values[1];
	uint64		n;
	List	   *problems = NIL;
	ListCell   *lc;

	if (!CitusLoaded() || LocalGroup() != 0)
		return;
	values[0] = CStringGetTextDatum("SELECT coalesce((SELECT paracl::pg_catalog.text "
									"FROM pg_catalog.pg_parameter_acl "
									"WHERE parname OPERATOR(pg_catalog.=) 'kalix.current_login'), '')");
	n = KalixExecute(&grants, values, NULL);
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;
		char	   *node = TextDatumGetCString(KalixResultDatum(i, 1, &isnull));
		int32		port = DatumGetInt32(KalixResultDatum(i, 2, &isnull));
		bool		success = DatumGetBool(KalixResultDatum(i, 3, &isnull));
		Datum		result = KalixResultDatum(i, 4, &isnull);
		char	   *found = isnull ? "" : TextDatumGetCString(result);
		char	   *here = TextDatumGetCString(KalixResultDatum(i, 5, &isnull));

		problems = lappend(problems,
						   success ?
						   psprintf("the SET grants on node %s:%d are \"%s\", not the coordinator's \"%s\": a role granted SET only on the coordinator cannot tell that node's shards its login (run the GRANT there too, for example with run_command_on_workers)",
									node, port, found, here) :
						   psprintf("the SET grants on node %s:%d could not be read: %s", node, port, found));
	}
	foreach(lc, problems)
		report("parameter kalix.current_login", lfirst(lc), arg);
}

/* What the workers were last told of the identity, in transaction told_lxid. */
static LocalTransactionId told_lxid = InvalidLocalTransactionId;
static char told_login[UUID_LEN * 2 + 8];
static char told_account[UUID_LEN * 2 + 8];
static bool propagating = false;

/* Issues SET LOCAL of one kalix setting through SPI, where Citus's utility hook sees it. */
static void
SetLocal(const char *name, const char *value)
{
	if (SPI_execute(psprintf("SET LOCAL %s = %s", name, quote_literal_cstr(value)), false, 0) !=
		SPI_OK_UTILITY)
		elog(ERROR, "kalix_accounts: SET LOCAL %s failed", name);
}

/*
 * Tells the workers of a Citus transaction block the current login and
 * account, whichever way they were set (SET, SET LOCAL, set_config,
 * switch_account, act_as), whenever they differ from what the workers were
 * last told in this transaction.  Citus's utility hook sends a SET LOCAL to
 * the transaction's open worker connections and replays it on those it
 * opens later; citus.propagate_set_commands = 'local' is set for just these
 * statements.  Called before the executor starts a statement; without Citus,
 * outside a transaction block, or in a worker's backend serving another
 * node's transaction it does nothing.
 */
void
KalixCitusPropagateIdentity(void)
{
	const char *login;
	const char *account;
	bool		tell_login;
	bool		tell_account;
	int			nest;

	/* A worker's backend serving the coordinator was told by the coordinator. */
	if (!CitusLoaded() || propagating || !IsTransactionBlock() ||
		strncmp(application_name, "citus_internal gpid=", strlen("citus_internal gpid=")) == 0)
		return;
	login = GetConfigOption("kalix.current_login", true, false);
	account = GetConfigOption("kalix.current_account", true, false);
	login = login ? login : "";
	account = account ? account : "";
	/* A new transaction's workers know nothing yet. */
	if (told_lxid != KalixCurrentLxid())
	{
		told_lxid = KalixCurrentLxid();
		told_login[0] = told_account[0] = '\0';
	}
	tell_login = strcmp(login, told_login) != 0;
	tell_account = strcmp(account, told_account) != 0;
	if ((!tell_login && !tell_account) ||
		strlen(login) >= sizeof(told_login) || strlen(account) >= sizeof(told_account))
		return;					/* nothing new, or not a UUID: its check hook refused it */

	propagating = true;
	PG_TRY();
	{
		nest = NewGUCNestLevel();
		(void) set_config_option("citus.propagate_set_commands", "local", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "kalix_accounts: SPI_connect failed");
		/* Only what changed: an empty login needs no GRANT SET to stay empty. */
		if (tell_login)
			SetLocal("kalix.current_login", login);
		if (tell_account)
			SetLocal("kalix.current_account", account);
		SPI_finish();
		AtEOXact_GUC(true, nest);
	}
	PG_FINALLY();
	{
		propagating = false;
	}
	PG_END_TRY();
	strlcpy(told_login, login, sizeof(told_login));
	strlcpy(told_account, account, sizeof(told_account));
}
