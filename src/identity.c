/*
 * identity.c
 *		Who is calling and in which account: current_login(), current_account(),
 *		current_account_role(), member_role() and switch_account().
 *
 * Policies call these per scan (as index conditions) or per row (as filters),
 * so the answer is memoised.  A changed setting, a changed role or a cache
 * invalidation discards the memo (with transaction scope, so does a new
 * transaction); at the first call of each statement pending invalidations are
 * accepted, so a membership revoked by another session is in force at our
 * next statement even inside an open transaction.
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/timestamp.h"

#include "kalix.h"
#include "errors.h"

/* The identity of the running statement. */
typedef struct IdentityMemo
{
	bool		valid;
	LocalTransactionId lxid;
	TimestampTz statement_start;
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

/* The login of this session: kalix.current_login, else the one of the current role. */
bool
KalixCurrentLogin(pg_uuid_t *login)
{
	pg_uuid_t	id;

	KalixCacheBegin();
	if (KalixSettingLogin(&id))
	{
		if (!KalixLoginExists(&id))
			return false;
		*login = id;
		return true;
	}
	return KalixLoginForRole(GetOuterUserId(), login);
}

/*
 * The login's role in the account if it may work there (a member of an
 * existing, unarchived account); otherwise KALIX_ROLE_NONE, or with raise an
 * insufficient_privilege error that reveals nothing to non-members.
 */
KalixRole
KalixCheckAccess(const pg_uuid_t *account, const pg_uuid_t *login, bool raise)
{
	KalixAccount *entry;
	KalixRole	role = KALIX_ROLE_NONE;
	bool		archived;

	KalixCacheBegin();
	entry = KalixLookupAccount(account);
	archived = entry->archived;
	if (entry->exists)
		role = KalixMemberRole(account, login);
	if (role == KALIX_ROLE_NONE && raise)
		KalixRaiseNotMember(account);
	if (role != KALIX_ROLE_NONE && archived)
	{
		if (raise)
			KalixRaiseArchived(account);
		role = KALIX_ROLE_NONE;
	}
	return role;
}

/*
 * Makes the memo describe the running statement.  A new statement first takes
 * in what other sessions committed; the answers of the previous statement are
 * kept when nothing they depend on has changed since: the cache, the
 * settings, the role, and with transaction scope the transaction.
 */
static void
RefreshMemo(void)
{
	LocalTransactionId lxid = KalixCurrentLxid();
	TimestampTz start = GetCurrentStatementStartTimestamp();
	Oid			outer_role = GetOuterUserId();

	if (!memo.valid || memo.lxid != lxid || memo.statement_start != start)
	{
		AcceptInvalidationMessages();
		if (memo.valid &&
			(kalix_account_scope == KALIX_SCOPE_SESSION || memo.lxid == lxid))
		{
			memo.lxid = lxid;
			memo.statement_start = start;
		}
	}
	if (memo.valid && memo.lxid == lxid && memo.statement_start == start &&
		memo.setting_generation == kalix_setting_generation &&
		memo.cache_generation == kalix_cache_generation &&
		memo.outer_role == outer_role)
		return;

	/* Generations are read first: a change during the lookup voids the memo. */
	memo.valid = false;
	memo.setting_generation = kalix_setting_generation;
	memo.cache_generation = kalix_cache_generation;
	memo.has_login = KalixCurrentLogin(&memo.login);
	memo.account_checked = false;
	memo.lxid = lxid;
	memo.statement_start = start;
	memo.outer_role = outer_role;
	memo.valid = true;
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
		pg_uuid_t	id;

		memo.has_account = KalixSettingAccount(&id);
		if (memo.has_account)
		{
			if (!memo.has_login)
				KalixRaiseNoLogin();
			memo.role = KalixCheckAccess(&id, &memo.login, true);
			memo.account = id;
		}
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
	(void) KalixCheckAccess(account, &memo.login, true);

	text = KalixUuidToCString(account);
	(void) set_config_option("kalix.current_account", text,
							 PGC_USERSET, PGC_S_SESSION,
							 is_local ? GUC_ACTION_LOCAL : GUC_ACTION_SET,
							 true, 0, false);
	PG_RETURN_UUID_P(account);
}

/* ExecutorStart hook: drops a lapsed transaction-scoped account before parallel workers copy it. */
static void
KalixExecutorStart(QueryDesc *queryDesc, int eflags)
{
	KalixClearStaleSettings();
	if (prev_executor_start)
		prev_executor_start(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

/* Installs the executor hook. */
void
KalixInstallHooks(void)
{
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = KalixExecutorStart;
}
