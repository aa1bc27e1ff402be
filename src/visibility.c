/*
 * visibility.c
 *		What the policies of the extension's own tables let the current login
 *		see, as arrays: member_accounts(), admin_accounts(), team_logins().
 *
 * The policies compare a key column with one of these arrays
 * (`id = ANY (kalix.member_accounts())`), so they plan as index conditions
 * and hold no subquery (Citus refuses subqueries in the policies of
 * distributed tables).  The arrays are read with the cache's own scans and
 * memoised until the current login or the cache changes, and each call site
 * keeps the array it returned (in fn_extra) while the memo stands, so a
 * policy evaluated per row as a filter costs neither a scan nor a copy.  The
 * functions are declared with a high COST, so that the planner prefers the
 * index scan, which evaluates them once.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/memutils.h"

#include "kalix.h"

/* The current login's memberships, and the logins it shares an account with. */
typedef struct VisibilityMemo
{
	bool		valid;
	uint64		version;		/* bumped at every refill */
	uint64		cache_generation;
	bool		has_login;
	pg_uuid_t	login;
	int			naccounts;
	pg_uuid_t  *accounts;
	KalixRole  *roles;
	bool		team_known;
	int			nteam;
	pg_uuid_t  *team;
} VisibilityMemo;

/* A growing array of uuids with a role each, in the memo's context. */
typedef struct UuidList
{
	int			count;
	int			size;
	pg_uuid_t  *items;
	KalixRole  *roles;
} UuidList;

/* The array one call site returned, and the memo version it was built from. */
typedef struct CallSiteArray
{
	uint64		version;
	Datum		array;
} CallSiteArray;

static VisibilityMemo memo;
static MemoryContext VisibilityContext = NULL;

/* Appends one uuid and its role to a list. */
static void
UuidListAdd(UuidList *list, const pg_uuid_t *id, KalixRole role)
{
	if (list->count == list->size)
	{
		list->size = list->size == 0 ? 16 : list->size * 2;
		if (list->items == NULL)
		{
			list->items = MemoryContextAlloc(VisibilityContext, list->size * sizeof(pg_uuid_t));
			list->roles = MemoryContextAlloc(VisibilityContext, list->size * sizeof(KalixRole));
		}
		else
		{
			list->items = repalloc(list->items, list->size * sizeof(pg_uuid_t));
			list->roles = repalloc(list->roles, list->size * sizeof(KalixRole));
		}
	}
	list->items[list->count] = *id;
	list->roles[list->count] = role;
	list->count++;
}

/* KalixMembershipVisitor: collects the accounts of a login's memberships. */
static void
CollectAccount(const pg_uuid_t *account, const pg_uuid_t *login, KalixRole role, void *arg)
{
	UuidList   *list = arg;

	if (role != KALIX_ROLE_NONE)
		UuidListAdd(list, account, role);
}

/* KalixMembershipVisitor: collects the logins of an account's memberships. */
static void
CollectLogin(const pg_uuid_t *account, const pg_uuid_t *login, KalixRole role, void *arg)
{
	UuidListAdd((UuidList *) arg, login, role);
}

/*
 * Makes the memo describe the current login of the running statement: its
 * memberships, read again when the login or the cache changed.
 */
static void
RefreshVisibility(void)
{
	pg_uuid_t	login;
	bool		has_login = KalixStatementLogin(&login);
	uint64		generation = kalix_cache_generation;
	UuidList	accounts = {0};

	if (memo.valid && memo.cache_generation == generation && memo.has_login == has_login &&
		(!has_login || memcmp(&memo.login, &login, UUID_LEN) == 0))
		return;

	memo.valid = false;
	if (VisibilityContext == NULL)
		VisibilityContext = AllocSetContextCreate(CacheMemoryContext,
												  "kalix_accounts visibility",
												  ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(VisibilityContext);
	if (has_login)
		KalixScanMemberships(&login, true, CollectAccount, &accounts);
	memo.cache_generation = generation;
	memo.has_login = has_login;
	memo.login = login;
	memo.naccounts = accounts.count;
	memo.accounts = accounts.items;
	memo.roles = accounts.roles;
	memo.team_known = false;
	memo.version++;
	memo.valid = true;
}

/* Fills the memo's team: the current login and every login of its accounts, sorted, once each. */
static void
RefreshTeam(void)
{
	UuidList	team = {0};
	int			kept = 0;

	RefreshVisibility();
	if (memo.team_known)
		return;
	if (memo.has_login)
	{
		UuidListAdd(&team, &memo.login, KALIX_ROLE_NONE);
		for (int i = 0; i < memo.naccounts; i++)
			KalixScanMemberships(&memo.accounts[i], false, CollectLogin, &team);
		qsort(team.items, team.count, sizeof(pg_uuid_t), KalixUuidCompare);
		for (int i = 0; i < team.count; i++)
			if (kept == 0 || KalixUuidCompare(&team.items[kept - 1], &team.items[i]) != 0)
				team.items[kept++] = team.items[i];
	}
	memo.nteam = kept;
	memo.team = team.items;
	memo.team_known = true;
}

/*
 * The uuid[] of the given uuids for this call site: the one it returned
 * before while the memo has not been refilled, else a new one in the call
 * site's memory context.
 */
static Datum
CallSiteUuidArray(FunctionCallInfo fcinfo, const pg_uuid_t *items, int count)
{
	CallSiteArray *site = fcinfo->flinfo->fn_extra;
	MemoryContext old;
	Datum	   *elems;

	if (site != NULL && site->version == memo.version)
		return site->array;
	if (site == NULL)
		site = fcinfo->flinfo->fn_extra =
			MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(CallSiteArray));
	else
		pfree(DatumGetPointer(site->array));
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	elems = palloc(Max(count, 1) * sizeof(Datum));
	for (int i = 0; i < count; i++)
		elems[i] = UUIDPGetDatum(&items[i]);
	site->array = PointerGetDatum(construct_array(elems, count, UUIDOID, UUID_LEN, false,
												  TYPALIGN_CHAR));
	pfree(elems);
	MemoryContextSwitchTo(old);
	site->version = memo.version;
	return site->array;
}

/* The accounts in which the current login's role is at least `least`. */
static Datum
AccountsWithRole(FunctionCallInfo fcinfo, KalixRole least)
{
	pg_uuid_t  *items;
	int			count = 0;
	Datum		result;
	CallSiteArray *site = fcinfo->flinfo->fn_extra;

	RefreshVisibility();
	if (site != NULL && site->version == memo.version)
		return site->array;
	items = palloc(Max(memo.naccounts, 1) * sizeof(pg_uuid_t));
	for (int i = 0; i < memo.naccounts; i++)
		if (memo.roles[i] >= least)
			items[count++] = memo.accounts[i];
	result = CallSiteUuidArray(fcinfo, items, count);
	pfree(items);
	return result;
}

PG_FUNCTION_INFO_V1(kalix_member_accounts);

/* SQL: kalix.member_accounts() -- the accounts the current login belongs to, archived ones too. */
Datum
kalix_member_accounts(PG_FUNCTION_ARGS)
{
	return AccountsWithRole(fcinfo, KALIX_ROLE_MEMBER);
}

PG_FUNCTION_INFO_V1(kalix_admin_accounts);

/* SQL: kalix.admin_accounts() -- the accounts where the current login is an admin or owner. */
Datum
kalix_admin_accounts(PG_FUNCTION_ARGS)
{
	return AccountsWithRole(fcinfo, KALIX_ROLE_ADMIN);
}

PG_FUNCTION_INFO_V1(kalix_team_logins);

/* SQL: kalix.team_logins() -- the current login and every login it shares an account with. */
Datum
kalix_team_logins(PG_FUNCTION_ARGS)
{
	RefreshTeam();
	return CallSiteUuidArray(fcinfo, memo.team, memo.nteam);
}
