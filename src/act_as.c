/*
 * act_as.c
 *		kalix.act_as(login, account): the identity of one transaction, chosen
 *		by a trusted application connection per request.
 *
 * The identity is kept here, in backend-local state stamped with the local
 * transaction id, and laid over kalix.current_login and kalix.current_account
 * (guc.c asks KalixActAsValue before it reads a setting), so the common path
 * writes no setting at all.  It is in force while
 *  - the transaction that chose it runs (a new transaction has another
 *    lxid, and the transaction callback forgets it in any case);
 *  - and the setting still holds the value it held when act_as ran: a later
 *    SET, set_config or RESET of the setting replaces the identity's half for
 *    that setting (the assign hook reports it, KalixActAsAssigned).
 * ROLLBACK TO SAVEPOINT restores what was in force when the savepoint was
 * taken (the subtransaction callback keeps a copy per savepoint while an
 * identity is chosen).  Before a parallel plan starts, the identity is
 * written into the settings with SET LOCAL semantics, since workers copy the
 * settings and not this state.
 *
 * The login and the account are checked once, when act_as runs; the values
 * carry that check (KalixUuidSetting.checked_*), so the identity memo takes
 * them without a second lookup.  Layer: beside guc.c, above cache.c.
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "kalix.h"
#include "errors.h"

/* An identity chosen by kalix.act_as. */
typedef struct ActAs
{
	LocalTransactionId lxid;	/* the transaction it is for; invalid: none */
	const void *login_token;	/* the settings' values it is laid over */
	const void *account_token;
	bool		login_replaced; /* a SET replaced this half */
	bool		account_replaced;
	KalixUuidSetting login;
	KalixUuidSetting account;
} ActAs;

/* What was in force when a savepoint was taken. */
typedef struct ActAsSaved
{
	SubTransactionId subid;
	ActAs		state;
} ActAsSaved;

static ActAs act_as;

/* ActAsSaved entries, innermost savepoint first, in TopTransactionContext. */
static List *saved = NIL;

static void ForgetAllowedRole(Datum arg, int cacheid, uint32 hashvalue);

/* True when the identity act_as chose is for the running transaction. */
static bool
Chosen(void)
{
	return act_as.lxid != InvalidLocalTransactionId && act_as.lxid == KalixCurrentLxid();
}

/*
 * The value act_as chose for a setting, if it is in force and the setting
 * still holds the value (token) it held then; else NULL.
 */
const KalixUuidSetting *
KalixActAsValue(bool login, const void *token)
{
	if (!Chosen())
		return NULL;
	if (login)
		return !act_as.login_replaced && act_as.login_token == token ? &act_as.login : NULL;
	return !act_as.account_replaced && act_as.account_token == token ? &act_as.account : NULL;
}

/*
 * Called by a setting's assign hook: an assignment that leaves the value
 * act_as saw (a SET, set_config or RESET, also a RESET to that very value)
 * replaces act_as's half for the setting for the rest of the transaction.
 * Only ROLLBACK TO SAVEPOINT (the subtransaction callback) brings it back.
 */
void
KalixActAsAssigned(bool login, const void *old_token)
{
	if (!Chosen())
		return;
	if (login && act_as.login_token == old_token)
		act_as.login_replaced = true;
	else if (!login && act_as.account_token == old_token)
		act_as.account_replaced = true;
}

/* Forgets the chosen identity and every saved one, when the transaction ends. */
static void
ActAsXactCallback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			saved = NIL;
			if (act_as.lxid != InvalidLocalTransactionId)
			{
				act_as.lxid = InvalidLocalTransactionId;
				kalix_setting_generation++;
			}
			break;
		default:
			break;
	}
}

/* Keeps a copy per savepoint while an identity is chosen; ROLLBACK TO puts it back. */
static void
ActAsSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
					 SubTransactionId parentSubid, void *arg)
{
	ActAsSaved *top = saved != NIL ? (ActAsSaved *) linitial(saved) : NULL;

	switch (event)
	{
		case SUBXACT_EVENT_START_SUB:
			if (Chosen())
			{
				ActAsSaved *copy = MemoryContextAlloc(TopTransactionContext, sizeof(ActAsSaved));
				MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

				copy->subid = mySubid;
				copy->state = act_as;
				saved = lcons(copy, saved);
				MemoryContextSwitchTo(old);
			}
			break;
		case SUBXACT_EVENT_COMMIT_SUB:
			if (top != NULL && top->subid == mySubid)
				saved = list_delete_first(saved);
			break;
		case SUBXACT_EVENT_ABORT_SUB:
			if (top != NULL && top->subid == mySubid)
			{
				act_as = top->state;
				saved = list_delete_first(saved);
				kalix_setting_generation++;
			}
			else if (Chosen())
			{
				/* Nothing was chosen when the savepoint was taken. */
				act_as.lxid = InvalidLocalTransactionId;
				kalix_setting_generation++;
			}
			break;
		default:
			break;
	}
}

/* Registers the transaction callbacks, and those that void the privilege check kept. */
void
KalixActAsRegister(void)
{
	RegisterXactCallback(ActAsXactCallback, NULL);
	RegisterSubXactCallback(ActAsSubXactCallback, NULL);
	CacheRegisterSyscacheCallback(PARAMETERACLNAME, ForgetAllowedRole, (Datum) 0);
	CacheRegisterSyscacheCallback(PARAMETERACLOID, ForgetAllowedRole, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHOID, ForgetAllowedRole, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHMEMMEMROLE, ForgetAllowedRole, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, ForgetAllowedRole, (Datum) 0);
}

/*
 * Before a parallel plan starts: writes the identity act_as chose into the
 * settings for the rest of the transaction (SET LOCAL), since parallel
 * workers copy the settings, not this state.  The checks made by act_as
 * travel with the new values.
 */
void
KalixActAsForWorkers(QueryDesc *queryDesc)
{
	if (!queryDesc->plannedstmt->parallelModeNeeded || IsInParallelMode())
		return;

	if (KalixActAsValue(true, KalixSettingToken(true)) != NULL)
	{
		(void) set_config_option("kalix.current_login", KalixUuidToCString(&act_as.login.id),
								 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
		act_as.login_token = KalixSettingToken(true);
		act_as.login_replaced = false;
	}
	if (KalixActAsValue(false, KalixSettingToken(false)) != NULL)
	{
		(void) set_config_option("kalix.current_account",
								 act_as.account.set ? KalixUuidToCString(&act_as.account.id) : "",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
		act_as.account_token = KalixSettingToken(false);
		act_as.account_replaced = false;
	}
}

/*
 * Fills a value act_as chose, checked at the given cache generation.  Its
 * text stays '': most transactions never show it (guc.c's show hooks
 * format it when asked).
 */
static void
ChooseValue(KalixUuidSetting *value, const pg_uuid_t *id, uint64 generation)
{
	memset(value, 0, sizeof(KalixUuidSetting));
	value->lxid = KalixCurrentLxid();
	value->checked_lxid = value->lxid;
	value->checked_generation = generation;
	if (id == NULL)
		return;
	value->set = true;
	value->id = *id;
}

/* The role last found allowed to call act_as; InvalidOid once that may have changed. */
static Oid	allowed_role = InvalidOid;

/* Syscache callback: a parameter's ACL, a role or a role membership changed. */
static void
ForgetAllowedRole(Datum arg, int cacheid, uint32 hashvalue)
{
	allowed_role = InvalidOid;
}

/*
 * True when the current role may set kalix.current_login, as SET checks it.
 * A positive answer is kept until pg_parameter_acl, pg_authid or
 * pg_auth_members change (their syscache callbacks, taken in when the
 * caller accepts invalidation messages).
 */
static bool
MaySetLogin(void)
{
	Oid			role = GetUserId();

	if (role == allowed_role)
		return true;
	if (!superuser() &&
		pg_parameter_aclcheck("kalix.current_login", role, ACL_SET) != ACLCHECK_OK)
		return false;
	allowed_role = role;
	return true;
}

PG_FUNCTION_INFO_V1(kalix_act_as);

/* SQL: kalix.act_as(login, account) -- this transaction's login and account. */
Datum
kalix_act_as(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *login;
	pg_uuid_t  *account = PG_ARGISNULL(1) ? NULL : PG_GETARG_UUID_P(1);
	KalixRole	role = KALIX_ROLE_NONE;
	uint64		generation;

	if (!IsTransactionBlock())
		KalixRaiseActAsOutsideTransaction();
	/* Settings lapsed since an earlier transaction are cleared first, not under the identity. */
	KalixClearStaleSettings();
	/*
	 * The call's one poll of invalidations, before anything is checked: a
	 * revoked privilege or membership committed before it is in force.
	 */
	KalixCacheBegin();
	if (!MaySetLogin())
		KalixRaiseActAsNotAllowed();
	if (PG_ARGISNULL(0))
		KalixRaiseNullArgument("login");
	login = PG_GETARG_UUID_P(0);

	generation = kalix_cache_generation;
	if (!KalixLoginExists(login))
		KalixRaiseNoSuchLogin(login);
	if (account != NULL)
		role = KalixCachedAccess(account, login, true);

	act_as.lxid = KalixCurrentLxid();
	act_as.login_token = KalixSettingToken(true);
	act_as.account_token = KalixSettingToken(false);
	act_as.login_replaced = false;
	act_as.account_replaced = false;
	ChooseValue(&act_as.login, login, generation);
	ChooseValue(&act_as.account, account, generation);
	act_as.account.checked_login = *login;
	act_as.account.checked_role = role;
	kalix_setting_generation++;

	if (account == NULL)
		PG_RETURN_NULL();
	PG_RETURN_UUID_P(account);
}
