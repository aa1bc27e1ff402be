/*
 * identity.c
 *		Who is calling and in which account: current_login(), current_account(),
 *		current_account_role(), member_role() and switch_account().
 *
 * Policies call these per scan (as index conditions) or per row (as filters),
 * so the answer is memoised.  A changed setting, a changed role or a cache
 * invalidation discards the memo (with transaction scope, so does a new
 * transaction).  Every call first passes the cache's entry point, once, which
 * takes in pending invalidations (lock-free when none are pending), so a
 * membership revoked by another session is in force at our next statement
 * even inside an open transaction, and also when a statement that waited for
 * a row lock rechecks that row (EvalPlanQual) after the revocation.
 *
 * The executor hook also refuses, with transaction scope, a WITH HOLD cursor
 * that would carry rows read under one transaction's identity into later
 * ones; the utility hook refuses SET LOCAL kalix.* outside a transaction
 * block.  Layer: above guc.c (the settings) and cache.c (the data).
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "tcop/pquery.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/portal.h"
#include "utils/rls.h"

#include "kalix.h"
#include "citus.h"
#include "errors.h"

/* The identity of the running statement. */
typedef struct IdentityMemo
{
	bool		valid;
	LocalTransactionId lxid;
	uint64		setting_generation;
	uint64		cache_generation;
	Oid			outer_role;
	bool		has_login;
	pg_uuid_t	login;
	bool		account_checked;	/* the fields below are filled in */
	bool		has_account;
	pg_uuid_t	account;
	KalixRole	role;
} IdentityMemo;

static IdentityMemo memo;
static ExecutorStart_hook_type prev_executor_start = NULL;
static ProcessUtility_hook_type prev_process_utility = NULL;

/*
 * Makes the memo describe the running statement.  First the cache takes in
 * what other sessions committed (its entry point does so at every call, so
 * also when a statement rechecks a row it waited for); the answers are then
 * kept while nothing they depend on has changed: the cache, the settings,
 * the role, and with transaction scope the transaction.
 */
static void
RefreshMemo(void)
{
	LocalTransactionId lxid = KalixCurrentLxid();
	Oid			outer_role = GetOuterUserId();
	IdentityMemo fresh = {0};

	KalixCacheBegin();
	if (memo.valid && memo.lxid != lxid && kalix_account_scope == KALIX_SCOPE_SESSION)
		memo.lxid = lxid;
	if (memo.valid && memo.lxid == lxid &&
		memo.setting_generation == kalix_setting_generation &&
		memo.cache_generation == kalix_cache_generation &&
		memo.outer_role == outer_role)
		return;

	/*
	 * Built aside, then stored: an error during the lookup (a lock wait
	 * cancelled) leaves no memo.  Generations are read first: a change during
	 * the lookup voids the memo.
	 */
	memo.valid = false;
	fresh.setting_generation = kalix_setting_generation;
	fresh.cache_generation = kalix_cache_generation;
	fresh.has_login = KalixCurrentLogin(&fresh.login);
	fresh.account_checked = false;
	fresh.lxid = lxid;
	fresh.outer_role = outer_role;
	fresh.valid = true;
	memo = fresh;
}

/*
 * The current account, checked: false when none is set; an error when the
 * setting names an account the current login may not use.
 */
static bool
CurrentAccount(pg_uuid_t *account, KalixRole *role)
{
	RefreshMemo();
	if (!memo.account_checked)
	{
		pg_uuid_t	id = {0};
		bool		has_account = KalixSettingAccount(&id);
		KalixRole	checked = KALIX_ROLE_NONE;

		/* Stored only once checked: an error leaves the question open. */
		if (has_account)
		{
			if (!memo.has_login)
				KalixRaiseNoLogin();
			/* Checked already when kalix.act_as or SET chose it in this transaction. */
			checked = KalixSettingCheckedRole(&memo.login);
			if (checked == KALIX_ROLE_NONE)
				checked = KalixCachedAccess(&id, &memo.login, true);
		}
		memo.has_account = has_account;
		memo.account = id;
		memo.role = checked;
		memo.account_checked = true;
	}
	if (!memo.has_account)
		return false;
	*account = memo.account;
	if (role)
		*role = memo.role;
	return true;
}

/* The current login of the running statement; false when there is none. */
bool
KalixStatementLogin(pg_uuid_t *login)
{
	RefreshMemo();
	if (memo.has_login)
		*login = memo.login;
	return memo.has_login;
}

/* The checked current account of the running statement; false when none is set. */
bool
KalixCurrentAccount(pg_uuid_t *account)
{
	return CurrentAccount(account, NULL);
}

PG_FUNCTION_INFO_V1(kalix_current_login);

/* SQL: kalix.current_login() */
Datum
kalix_current_login(PG_FUNCTION_ARGS)
{
	RefreshMemo();
	if (!memo.has_login)
		PG_RETURN_NULL();
	return KalixUuidDatum(&memo.login);
}

PG_FUNCTION_INFO_V1(kalix_current_account);

/* SQL: kalix.current_account() */
Datum
kalix_current_account(PG_FUNCTION_ARGS)
{
	pg_uuid_t	account;

	if (!CurrentAccount(&account, NULL))
		PG_RETURN_NULL();
	return KalixUuidDatum(&account);
}

PG_FUNCTION_INFO_V1(kalix_current_account_role);

/* SQL: kalix.current_account_role() */
Datum
kalix_current_account_role(PG_FUNCTION_ARGS)
{
	pg_uuid_t	account;
	KalixRole	role;

	if (!CurrentAccount(&account, &role))
		PG_RETURN_NULL();
	PG_RETURN_OID(KalixRoleEnumValue(role));
}

PG_FUNCTION_INFO_V1(kalix_member_role);

/* SQL: kalix.member_role(account) -- the current login's role there, or NULL. */
Datum
kalix_member_role(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *account = PG_GETARG_UUID_P(0);
	KalixRole	role;

	RefreshMemo();
	if (!memo.has_login)
		PG_RETURN_NULL();
	role = KalixMemberRole(account, &memo.login);
	if (role == KALIX_ROLE_NONE)
		PG_RETURN_NULL();
	PG_RETURN_OID(KalixRoleEnumValue(role));
}

PG_FUNCTION_INFO_V1(kalix_switch_account);

/* SQL: kalix.switch_account(account, is_local) -- validates, then sets kalix.current_account. */
Datum
kalix_switch_account(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *account;
	bool		is_local = PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1);
	char	   *text;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("account must not be null"),
				 errhint("To work in no account, use RESET kalix.current_account.")));
	account = PG_GETARG_UUID_P(0);

	RefreshMemo();
	if (!memo.has_login)
		KalixRaiseNoLogin();
	(void) KalixCachedAccess(account, &memo.login, true);

	text = KalixUuidToCString(account);
	(void) set_config_option("kalix.current_account", text,
							 PGC_USERSET, PGC_S_SESSION,
							 is_local ? GUC_ACTION_LOCAL : GUC_ACTION_SET,
							 true, 0, false);
	PG_RETURN_UUID_P(account);
}

/*
 * With kalix.account_scope = 'transaction', refuses a WITH HOLD cursor that
 * reads a table under row-level security: its rows, read under this
 * transaction's identity, would be fetched in later transactions (through a
 * pooler, by another client).  PortalStart makes the cursor's portal the
 * active one while its query starts.
 */
static void
RefuseHeldCursor(QueryDesc *queryDesc)
{
	ListCell   *lc;

	if (kalix_account_scope != KALIX_SCOPE_TRANSACTION || ActivePortal == NULL ||
		(ActivePortal->cursorOptions & CURSOR_OPT_HOLD) == 0)
		return;
	foreach(lc, queryDesc->plannedstmt->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind == RTE_RELATION &&
			check_enable_rls(rte->relid, InvalidOid, true) == RLS_ENABLED)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cursor \"%s\" WITH HOLD may not read table \"%s\"",
							ActivePortal->name, get_rel_name(rte->relid)),
					 errdetail("With kalix.account_scope = 'transaction', rows read under one transaction's account must not outlive it, and row-level security filters this table."),
					 errhint("Declare the cursor without WITH HOLD, inside the transaction that fetches from it.")));
	}
}

/*
 * ExecutorStart hook: drops a lapsed transaction-scoped account, writes
 * kalix.act_as's identity into the settings before parallel workers copy
 * them, tells Citus's workers the identity, and refuses a held cursor over
 * isolated rows.
 */
static void
KalixExecutorStart(QueryDesc *queryDesc, int eflags)
{
	KalixClearStaleSettings();
	KalixActAsForWorkers(queryDesc);
	KalixCitusPropagateIdentity();
	RefuseHeldCursor(queryDesc);
	if (prev_executor_start)
		prev_executor_start(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

/*
 * ProcessUtility hook: refuses SET LOCAL of a kalix.* setting outside a
 * transaction block.  PostgreSQL only warns and the value ends with the
 * statement, so the statements after it would run under whatever account
 * the session had chosen before, not the one just named.
 */
static void
KalixProcessUtility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
					ProcessUtilityContext context, ParamListInfo params,
					QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;

	if (IsA(parsetree, VariableSetStmt) && context == PROCESS_UTILITY_TOPLEVEL &&
		!IsTransactionBlock())
	{
		VariableSetStmt *stmt = (VariableSetStmt *) parsetree;

		if (stmt->is_local && stmt->name != NULL &&
			pg_strncasecmp(stmt->name, "kalix.", strlen("kalix.")) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_NO_ACTIVE_SQL_TRANSACTION),
					 errmsg("SET LOCAL %s can only be used in transaction blocks", stmt->name),
					 errdetail("Outside a transaction block the value would end with this statement, and the next one would run under the setting chosen before it."),
					 errhint("Run BEGIN first, or use SET without LOCAL.")));
	}
	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context, params,
							 queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);
}

/* Installs the executor and utility hooks. */
void
KalixInstallHooks(void)
{
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = KalixExecutorStart;
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = KalixProcessUtility;
}
