/*
 * write.c
 *		How the functions that change data reach the extension's tables.
 *
 * Every change goes through SPI, so the tables' indexes (the expression index
 * on lower(email), the partial index of primary NPIs), CHECKs, foreign keys
 * and statement triggers (the cache invalidation) all apply, exactly as to a
 * superuser's own INSERT (the one exception, copy_users' rows, is described
 * at the top of members.c).  Each statement is declared once as a
 * KalixStatement and its plan is prepared on first use and kept for the
 * backend's life (the plan cache re-plans it after DDL), always the generic
 * plan: every statement finds its rows by key, and custom plans, which the
 * plan cache makes for a statement's first five runs in each backend, both
 * cost a planning each and follow the parameters into the statistics,
 * where a stale or skewed one (an account holding most of the memberships
 * when the table was last analyzed) chose table scans: copy_users' first
 * five calls in every backend scanned kalix.memberships whole.  A generic
 * plan of an array argument is also the plan the plan cache would
 * otherwise re-make at every call (it estimates an array of unknown length
 * dearer than the custom plans).  The SQL-callable
 * functions that write are declared SECURITY DEFINER with search_path pinned
 * to pg_catalog, pg_temp, so SPI runs as the extension owner, and every
 * statement names its objects schema-qualified.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"
#include "utils/json.h"

#include "kalix.h"
#include "write.h"

/* Opens the SPI connection of one write-path call. */
void
KalixWriteBegin(void)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "kalix_accounts: SPI_connect failed");
}

/* Closes the SPI connection opened by KalixWriteBegin. */
void
KalixWriteEnd(void)
{
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "kalix_accounts: SPI_finish failed");
}

/* Prepares a statement's plan, generic (see the top comment), and keeps it. */
static void
Prepare(KalixStatement *stmt)
{
	SPIPlanPtr	plan = SPI_prepare_cursor(stmt->sql, stmt->nargs, stmt->argtypes,
										  CURSOR_OPT_GENERIC_PLAN);

	if (plan == NULL)
		elog(ERROR, "kalix_accounts: SPI_prepare failed for \"%s\": %s",
			 stmt->sql, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "kalix_accounts: SPI_keepplan failed");
	stmt->plan = plan;
}

/*
 * Runs one statement with its parameters (nulls[i] true for a NULL; nulls
 * may be NULL when none is) and returns the number of rows it processed;
 * read_only runs it with the calling query's snapshot.  The rows a statement
 * returns stay readable with KalixResultDatum until the next statement.
 */
static uint64
Execute(KalixStatement *stmt, const Datum *values, const bool *nulls, bool read_only)
{
	char		nullflags[lengthof(stmt->argtypes)];
	int			rc;

	Assert(stmt->nargs <= (int) lengthof(stmt->argtypes));
	if (stmt->plan == NULL)
		Prepare(stmt);
	for (int i = 0; i < stmt->nargs; i++)
		nullflags[i] = (nulls != NULL && nulls[i]) ? 'n' : ' ';
	rc = SPI_execute_plan(stmt->plan, (Datum *) values, nullflags, read_only, 0);
	if (rc < 0)
		elog(ERROR, "kalix_accounts: SPI_execute_plan failed for \"%s\": %s",
			 stmt->sql, SPI_result_code_string(rc));
	return SPI_processed;
}

/* Runs a statement that changes data (see Execute). */
uint64
KalixExecute(KalixStatement *stmt, const Datum *values, const bool *nulls)
{
	return Execute(stmt, values, nulls, false);
}

/*
 * Runs a read-only statement with the calling query's snapshot, as the
 * STABLE (and PARALLEL SAFE) functions must.
 */
uint64
KalixQuery(KalixStatement *stmt, const Datum *values, const bool *nulls)
{
	return Execute(stmt, values, nulls, true);
}

/*
 * Makes argument n of a statement the given type, discarding a plan made
 * for another one: for a type whose OID is only known at run time.
 */
void
KalixStatementArgType(KalixStatement *stmt, int n, Oid type)
{
	Assert(n < stmt->nargs);
	if (stmt->argtypes[n] == type)
		return;
	if (stmt->plan != NULL)
	{
		SPI_freeplan(stmt->plan);
		stmt->plan = NULL;
	}
	stmt->argtypes[n] = type;
}

/* A column (1-based) of a row the last statement returned. */
Datum
KalixResultDatum(uint64 row, int column, bool *isnull)
{
	Assert(SPI_tuptable != NULL && row < SPI_processed);
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column, isnull);
}

/*
 * Hands every row the last statement returned to a set-returning function's
 * materialized result (InitMaterializedSRF), column for column.
 */
void
KalixResultToSet(ReturnSetInfo *rsinfo)
{
	int			natts = rsinfo->setDesc->natts;
	Datum	   *values = palloc(natts * sizeof(Datum));
	bool	   *nulls = palloc(natts * sizeof(bool));

	for (uint64 row = 0; row < SPI_processed; row++)
	{
		for (int column = 0; column < natts; column++)
			values[column] = KalixResultDatum(row, column + 1, &nulls[column]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	pfree(values);
	pfree(nulls);
}

/*
 * Appends the audit row of a change: the current login, the account it
 * concerns (NULL for none) and a JSON object describing it.
 */
void
KalixAudit(const char *action, const pg_uuid_t *account, const char *detail_json)
{
	KalixAuditJsonb(action, account,
					DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
													   CStringGetDatum(detail_json ? detail_json : "{}"))));
}

/*
 * KalixAudit with the detail already a jsonb (copy_users builds a large one).
 * The login is kalix.current_login() as the statement would see it, passed
 * as a parameter rather than called by the statement.
 */
void
KalixAuditJsonb(const char *action, const pg_uuid_t *account, Jsonb *detail)
{
	static KalixStatement insert = {
		"INSERT INTO kalix.audit_log (login_id, account_id, action, detail) "
		"VALUES ($4, $1, $2, $3)",
		4, {UUIDOID, TEXTOID, JSONBOID, UUIDOID}, NULL
	};
	pg_uuid_t	login;
	Datum		values[4];
	bool		nulls[4] = {account == NULL, false, false, false};

	nulls[3] = !KalixStatementLogin(&login);
	values[0] = account ? UUIDPGetDatum(account) : (Datum) 0;
	values[1] = CStringGetTextDatum(action);
	values[2] = JsonbPGetDatum(detail);
	values[3] = nulls[3] ? (Datum) 0 : UUIDPGetDatum(&login);
	(void) KalixExecute(&insert, values, nulls);
}

/*
 * Appends the audit rows of a change that concerns several accounts (one row
 * each, in the order given, the same detail) with one statement; the detail
 * is parsed once, here, not once per row.
 */
void
KalixAuditAccounts(const char *action, const pg_uuid_t *accounts, int n, const char *detail_json)
{
	static KalixStatement insert = {
		"INSERT INTO kalix.audit_log (login_id, account_id, action, detail) "
		"SELECT $4, a.id, $2, $3 "
		"FROM pg_catalog.unnest($1) WITH ORDINALITY a (id, n) ORDER BY a.n",
		4, {UUIDARRAYOID, TEXTOID, JSONBOID, UUIDOID}, NULL
	};
	Datum	   *ids = palloc(n * sizeof(Datum));
	pg_uuid_t	login;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	for (int i = 0; i < n; i++)
		ids[i] = UUIDPGetDatum(&accounts[i]);
	nulls[3] = !KalixStatementLogin(&login);
	values[0] = PointerGetDatum(construct_array(ids, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	values[1] = CStringGetTextDatum(action);
	values[2] = DirectFunctionCall1(jsonb_in, CStringGetDatum(detail_json));
	values[3] = nulls[3] ? (Datum) 0 : UUIDPGetDatum(&login);
	(void) KalixExecute(&insert, values, nulls);
	pfree(ids);
}

/* Starts the JSON object of an audit row's detail. */
void
KalixJsonBegin(StringInfo buf)
{
	initStringInfo(buf);
	appendStringInfoChar(buf, '{');
}

/* Appends the key of the next member, with a separator after the first. */
static void
JsonKey(StringInfo buf, const char *key)
{
	if (buf->len > 1)
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
}

/* Appends a text member (NULL: JSON null). */
void
KalixJsonText(StringInfo buf, const char *key, const char *value)
{
	JsonKey(buf, key);
	if (value == NULL)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, value);
}

/* Appends a UUID member (NULL: JSON null). */
void
KalixJsonUuid(StringInfo buf, const char *key, const pg_uuid_t *value)
{
	KalixJsonText(buf, key, value ? KalixUuidToCString(value) : NULL);
}

/* Appends a boolean member. */
void
KalixJsonBool(StringInfo buf, const char *key, bool value)
{
	JsonKey(buf, key);
	appendStringInfoString(buf, value ? "true" : "false");
}

/* Appends an integer member. */
void
KalixJsonInt(StringInfo buf, const char *key, int64 value)
{
	JsonKey(buf, key);
	appendStringInfo(buf, INT64_FORMAT, value);
}

/* Closes the object; buf->data is then the detail to pass to KalixAudit. */
void
KalixJsonEnd(StringInfo buf)
{
	appendStringInfoChar(buf, '}');
}
