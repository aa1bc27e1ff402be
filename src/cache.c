/*
 * cache.c
 *		Per-backend cache of accounts, logins and memberships.
 *
 * Policies ask "may this login use this account?" for every query, so the
 * answers are kept in hash tables in a memory context under
 * CacheMemoryContext, filled lazily by index scans of the extension's tables.
 * Statement-level triggers on those tables call CacheInvalidateRelcacheByRelid
 * on the table changed; the invalidation reaches every backend when the change
 * commits.  The entry point, KalixCacheBegin, is the cache's freshness rule:
 * at every call it takes in pending invalidations (one unlocked test when
 * none are pending), so a commit of another session is seen also in the
 * middle of a statement, by the recheck of a row it waited for.  The relcache
 * callback only clears a flag; the next entry point then builds a new, empty
 * generation whole and only then swaps it for the old one, so an error at any
 * point leaves the old (stale) or no cache, never a half one; the tables are
 * read again on demand.  Entries are never freed while a caller holds a
 * pointer: only KalixCacheBegin replaces the cache, and callers do not keep
 * pointers across calls into the cache.
 *
 * KalixCheckAccess answers the access question from the cache, for the read
 * path and the SET-time check of kalix.current_account.  Layer: above uuid.c,
 * below guc.c and identity.c.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "kalix.h"
#include "citus.h"
#include "errors.h"

/* Key of the membership hash. */
typedef struct MemberKey
{
	pg_uuid_t	account;
	pg_uuid_t	login;
} MemberKey;

/* A cached membership (role KALIX_ROLE_NONE: a cached non-membership). */
typedef struct MemberEntry
{
	MemberKey	key;
	KalixRole	role;
} MemberEntry;

/* The child accounts of one account (archived ones included). */
typedef struct ChildrenEntry
{
	pg_uuid_t	parent;			/* hash key */
	int			count;
	pg_uuid_t  *children;
} ChildrenEntry;

/*
 * What the cache knows of one login.  The first membership question about a
 * login reads all its memberships at once (one index scan; a login usually
 * has a handful), so later questions about its other accounts, and about
 * accounts it does not belong to, need no scan.  A login with more than
 * PRELOAD_MEMBERSHIPS_MAX memberships is asked about pair by pair instead.
 */
typedef struct LoginEntry
{
	pg_uuid_t	id;				/* hash key */
	bool		exists_known;
	bool		exists;
	bool		members_loaded; /* every membership is in member_hash */
	bool		members_many;	/* too many to preload */
} LoginEntry;

#define PRELOAD_MEMBERSHIPS_MAX 256

/* The login whose db_role is a given role, if any. */
typedef struct RoleLoginEntry
{
	Oid			roleid;
	bool		found;
	pg_uuid_t	login;
} RoleLoginEntry;

/*
 * Relations and enum values the cache reads, resolved once per reset.  On
 * Citus the relations are this node's local shards of the reference tables,
 * and the *_shell fields the tables themselves, whose invalidations say that
 * Citus's metadata changed; elsewhere both are the same.
 */
typedef struct CatalogIds
{
	bool		installed;
	Oid			accounts_shell;
	Oid			logins_shell;
	Oid			memberships_shell;
	Oid			accounts;
	Oid			accounts_pkey;
	Oid			accounts_parent_id_idx;
	Oid			logins;
	Oid			logins_pkey;
	Oid			logins_db_role_key;
	bool		db_role_by_oid; /* regrole (1.1); name in a 1.0 schema */
	Oid			memberships;
	Oid			memberships_pkey;
	Oid			memberships_login_id_idx;
	Oid			role_enum_values[3];	/* member, admin, owner */
} CatalogIds;

/*
 * Everything one generation of the cache holds.  A new generation is built
 * whole in a fresh context, then swapped in: an error while it is built
 * leaves the previous one (or none), never a half one.
 */
typedef struct CacheContents
{
	MemoryContext context;
	CatalogIds	ids;
	HTAB	   *account_hash;
	HTAB	   *login_hash;
	HTAB	   *role_login_hash;
	HTAB	   *member_hash;
	HTAB	   *children_hash;
} CacheContents;

static bool cache_valid = false;
static bool cache_building = false;
static bool callback_registered = false;
static CacheContents cache;

/* Bumped whenever cached data may have changed. */
uint64		kalix_cache_generation = 1;

/*
 * Relcache callback: marks the cache stale when one of our tables changed.
 * While a new generation is being built, every invalidation counts: the
 * tables it resolves may not be the ones the current generation knows.
 */
static void
InvalidateCallback(Datum arg, Oid relid)
{
	if (cache_building || relid == InvalidOid || !cache.ids.installed ||
		relid == cache.ids.accounts || relid == cache.ids.logins ||
		relid == cache.ids.memberships || relid == cache.ids.accounts_shell ||
		relid == cache.ids.logins_shell || relid == cache.ids.memberships_shell)
	{
		cache_valid = false;
		kalix_cache_generation++;
	}
}

/* Syscache callback: a role renamed or dropped changes which login it is. */
static void
RoleInvalidateCallback(Datum arg, int cacheid, uint32 hashvalue)
{
	InvalidateCallback(arg, InvalidOid);
}

/* Registers the invalidation callbacks once per backend. */
void
KalixCacheRegister(void)
{
	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(InvalidateCallback, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHOID, RoleInvalidateCallback, (Datum) 0);
		callback_registered = true;
	}
}

/* Creates one of the cache's hash tables in the given context. */
static HTAB *
CreateHash(const char *name, Size keysize, Size entrysize, MemoryContext context)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	ctl.hcxt = context;
	return hash_create(name, 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* Resolves a relation of schema kalix by name; InvalidOid when absent. */
static Oid
KalixRelid(const char *relname, Oid nsp)
{
	return get_relname_relid(relname, nsp);
}

/*
 * Resolves a kalix table, or one of its indexes, as this node stores it: on
 * Citus, the object of the table's local shard.
 */
static Oid
LocalRelid(Oid shell, const char *relname, Oid nsp)
{
	if (!OidIsValid(shell))
		return InvalidOid;
	return KalixRelid(KalixCitusLocalName(shell, relname), nsp);
}

/*
 * Resolves the OIDs the cache needs into *out; out->installed says whether
 * all exist.  Catalog lookups: this may wait for a lock, and fail.
 */
static void
ResolveIds(CatalogIds *out)
{
	Oid			nsp = get_namespace_oid("kalix", true);
	Oid			role_type;
	static const char *const labels[] = {"member", "admin", "owner"};

	memset(out, 0, sizeof(CatalogIds));
	if (!OidIsValid(nsp))
		return;
	out->accounts_shell = KalixRelid("accounts", nsp);
	out->logins_shell = KalixRelid("logins", nsp);
	out->memberships_shell = KalixRelid("memberships", nsp);
	out->accounts = LocalRelid(out->accounts_shell, "accounts", nsp);
	out->accounts_pkey = LocalRelid(out->accounts_shell, "accounts_pkey", nsp);
	out->accounts_parent_id_idx = LocalRelid(out->accounts_shell, "accounts_parent_id_idx", nsp);
	out->logins = LocalRelid(out->logins_shell, "logins", nsp);
	out->logins_pkey = LocalRelid(out->logins_shell, "logins_pkey", nsp);
	out->logins_db_role_key = LocalRelid(out->logins_shell, "logins_db_role_key", nsp);
	out->memberships = LocalRelid(out->memberships_shell, "memberships", nsp);
	out->memberships_pkey = LocalRelid(out->memberships_shell, "memberships_pkey", nsp);
	out->memberships_login_id_idx = LocalRelid(out->memberships_shell, "memberships_login_id_idx", nsp);
	role_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
								CStringGetDatum("account_role"), ObjectIdGetDatum(nsp));
	if (!OidIsValid(out->accounts) || !OidIsValid(out->accounts_pkey) ||
		!OidIsValid(out->accounts_parent_id_idx) ||
		!OidIsValid(out->logins) || !OidIsValid(out->logins_pkey) ||
		!OidIsValid(out->logins_db_role_key) || !OidIsValid(out->memberships) ||
		!OidIsValid(out->memberships_pkey) || !OidIsValid(out->memberships_login_id_idx) ||
		!OidIsValid(role_type))
		return;
	for (int i = 0; i < 3; i++)
	{
		out->role_enum_values[i] = GetSysCacheOid2(ENUMTYPOIDNAME, Anum_pg_enum_oid,
												   ObjectIdGetDatum(role_type),
												   CStringGetDatum(labels[i]));
		if (!OidIsValid(out->role_enum_values[i]))
			return;
	}
	out->db_role_by_oid = get_atttype(out->logins, Anum_logins_db_role) == REGROLEOID;
	out->installed = true;
}

/*
 * Builds a new generation of the cache completely, then swaps it in.  Until
 * the swap nothing global changes, and the new memory context hangs under
 * the caller's context: an error (a lock wait cancelled, a timeout) frees it
 * with that context and leaves the previous generation, still marked stale,
 * for the next call to rebuild.  The new generation is valid unless an
 * invalidation arrived while it was built.
 */
static void
RebuildCache(void)
{
	uint64		generation = kalix_cache_generation;
	CacheContents fresh;

	/* Left true by an error, it only makes more invalidations count. */
	cache_building = true;
	ResolveIds(&fresh.ids);
	cache_building = false;

	fresh.context = AllocSetContextCreate(CurrentMemoryContext, "kalix_accounts cache",
										  ALLOCSET_DEFAULT_SIZES);
	fresh.account_hash = CreateHash("kalix accounts", sizeof(pg_uuid_t),
									sizeof(KalixAccount), fresh.context);
	fresh.login_hash = CreateHash("kalix logins", sizeof(pg_uuid_t),
								  sizeof(LoginEntry), fresh.context);
	fresh.role_login_hash = CreateHash("kalix role logins", sizeof(Oid),
									   sizeof(RoleLoginEntry), fresh.context);
	fresh.member_hash = CreateHash("kalix memberships", sizeof(MemberKey),
								   sizeof(MemberEntry), fresh.context);
	fresh.children_hash = CreateHash("kalix children", sizeof(pg_uuid_t),
									 sizeof(ChildrenEntry), fresh.context);

	/* The swap: nothing below can fail. */
	MemoryContextSetParent(fresh.context, CacheMemoryContext);
	if (cache.context != NULL)
		MemoryContextDelete(cache.context);
	cache = fresh;
	cache_valid = (kalix_cache_generation == generation);
}

/*
 * Entry point of every cache user, and the cache's freshness rule: takes in
 * the invalidations other sessions' commits sent (one unlocked test when
 * none are pending), then replaces stale contents.  Must be called before
 * the first lookup of each SQL-callable function, hook or identity lookup.
 */
void
KalixCacheBegin(void)
{
	AcceptInvalidationMessages();
	if (cache_valid)
		return;
	KalixCacheRegister();
	RebuildCache();
}

/* True until an invalidation arrives; the next KalixCacheBegin then resets. */
bool
KalixCacheIsValid(void)
{
	return cache_valid;
}

/* Allocates memory that lives as long as the cache's current contents. */
void *
KalixCacheAlloc(Size size)
{
	Assert(cache.context != NULL);
	return MemoryContextAllocZero(cache.context, size);
}

/* The pg_enum OID of a kalix.account_role value. */
Oid
KalixRoleEnumValue(KalixRole role)
{
	Assert(cache.ids.installed && role >= KALIX_ROLE_MEMBER && role <= KALIX_ROLE_OWNER);
	return cache.ids.role_enum_values[role];
}

/* True when the extension's tables exist in this database. */
bool
KalixInstalled(void)
{
	KalixCacheBegin();
	return cache.ids.installed;
}

/*
 * Scans one of our tables through an index for rows whose leading key
 * columns equal the given datums, calling visit on each row until it returns
 * false.  The lock is taken before the snapshot so that no invalidation for a
 * change newer than the snapshot can be consumed after it.
 */
static void
IndexLookup(Oid relid, Oid indexid, int nkeys, const AttrNumber *attnos,
			const RegProcedure *procs, const Datum *values,
			bool (*visit) (HeapTuple tuple, TupleDesc desc, void *arg), void *arg)
{
	Relation	rel = table_open(relid, AccessShareLock);
	Snapshot	snapshot;
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tuple;

	/* Parallel mode allows no new snapshot; the query's own one serves. */
	snapshot = RegisterSnapshot(IsInParallelMode() ? GetActiveSnapshot() : GetLatestSnapshot());
	Assert(nkeys <= 2);
	for (int i = 0; i < nkeys; i++)
		ScanKeyInit(&keys[i], attnos[i], BTEqualStrategyNumber, procs[i], values[i]);
	scan = systable_beginscan(rel, indexid, true, snapshot, nkeys, keys);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		CHECK_FOR_INTERRUPTS();
		if (!visit(tuple, RelationGetDescr(rel), arg))
			break;
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
}

/* Fills a cache entry from an accounts row. */
static void
AccountFromTuple(HeapTuple tuple, TupleDesc desc, KalixAccount *entry)
{
	bool		isnull;
	Datum		parent;

	memset(entry, 0, sizeof(KalixAccount));
	entry->id = *DatumGetUUIDP(heap_getattr(tuple, Anum_accounts_id, desc, &isnull));
	entry->exists = true;
	parent = heap_getattr(tuple, Anum_accounts_parent_id, desc, &isnull);
	entry->has_parent = !isnull;
	if (!isnull)
		entry->parent_id = *DatumGetUUIDP(parent);
	(void) heap_getattr(tuple, Anum_accounts_archived_at, desc, &isnull);
	entry->archived = !isnull;
}

/* Copies an accounts row into a cache entry. */
static bool
VisitAccount(HeapTuple tuple, TupleDesc desc, void *arg)
{
	AccountFromTuple(tuple, desc, (KalixAccount *) arg);
	return false;
}

/* The account with this id (entry->exists false when there is none). */
KalixAccount *
KalixLookupAccount(const pg_uuid_t *id)
{
	KalixAccount *entry = hash_search(cache.account_hash, id, HASH_FIND, NULL);

	if (entry == NULL)
	{
		static const AttrNumber attnos[] = {Anum_accounts_id};
		static const RegProcedure procs[] = {F_UUID_EQ};
		Datum		values[] = {UUIDPGetDatum(id)};
		KalixAccount account = {0};

		/* Read first, enter after: an error must not leave a false entry. */
		account.id = *id;
		if (cache.ids.installed)
			IndexLookup(cache.ids.accounts, cache.ids.accounts_pkey, 1, attnos, procs, values,
						VisitAccount, &account);
		entry = hash_search(cache.account_hash, id, HASH_ENTER, NULL);
		*entry = account;
	}
	return entry;
}

/* What a scan of the children of one account collects. */
typedef struct ChildrenScan
{
	int			count;
	int			allocated;
	KalixAccount *rows;
} ChildrenScan;

/* Collects one child row. */
static bool
VisitChild(HeapTuple tuple, TupleDesc desc, void *arg)
{
	ChildrenScan *scan = arg;

	if (scan->count == scan->allocated)
	{
		scan->allocated *= 2;
		scan->rows = repalloc(scan->rows, scan->allocated * sizeof(KalixAccount));
	}
	AccountFromTuple(tuple, desc, &scan->rows[scan->count++]);
	return true;
}

/*
 * The ids of the accounts whose parent is this account, archived ones
 * included, read through accounts_parent_id_idx.  The children found enter
 * the account cache too.  The array belongs to the cache.
 */
const pg_uuid_t *
KalixLookupChildren(const pg_uuid_t *parent, int *count)
{
	ChildrenEntry *entry = hash_search(cache.children_hash, parent, HASH_FIND, NULL);

	if (entry == NULL)
	{
		static const AttrNumber attnos[] = {Anum_accounts_parent_id};
		static const RegProcedure procs[] = {F_UUID_EQ};
		Datum		values[] = {UUIDPGetDatum(parent)};
		ChildrenScan scan;
		pg_uuid_t  *children;

		/* Read first, enter after: an error must not leave a partial entry. */
		scan.count = 0;
		scan.allocated = 8;
		scan.rows = palloc(scan.allocated * sizeof(KalixAccount));
		if (cache.ids.installed)
			IndexLookup(cache.ids.accounts, cache.ids.accounts_parent_id_idx, 1, attnos, procs, values,
						VisitChild, &scan);
		children = MemoryContextAlloc(cache.context,
									  Max(scan.count, 1) * sizeof(pg_uuid_t));
		for (int i = 0; i < scan.count; i++)
		{
			bool		found;
			KalixAccount *child = hash_search(cache.account_hash, &scan.rows[i].id,
											  HASH_ENTER, &found);

			if (!found)
				*child = scan.rows[i];
			children[i] = scan.rows[i].id;
		}
		pfree(scan.rows);
		entry = hash_search(cache.children_hash, parent, HASH_ENTER, NULL);
		entry->count = scan.count;
		entry->children = children;
	}
	*count = entry->count;
	return entry->children;
}

/* Copies the id of a logins row. */
static bool
VisitLogin(HeapTuple tuple, TupleDesc desc, void *arg)
{
	RoleLoginEntry *entry = arg;
	bool		isnull;
	Datum		id = heap_getattr(tuple, Anum_logins_id, desc, &isnull);

	entry->found = !isnull;
	if (!isnull)
		entry->login = *DatumGetUUIDP(id);
	return false;
}

/*
 * The login whose db_role is the given role, if there is one: by the role's
 * OID, so that another role taking its name is not that login.  A 1.0 schema
 * not yet updated stores the name, and is read by name until it is.
 */
bool
KalixLoginForRole(Oid roleid, pg_uuid_t *login)
{
	RoleLoginEntry *entry = hash_search(cache.role_login_hash, &roleid, HASH_FIND, NULL);

	if (entry == NULL)
	{
		static const AttrNumber attnos[] = {Anum_logins_db_role};
		RoleLoginEntry result = {0};

		result.roleid = roleid;
		if (cache.ids.installed && cache.ids.db_role_by_oid)
		{
			static const RegProcedure procs[] = {F_OIDEQ};
			Datum		values[] = {ObjectIdGetDatum(roleid)};

			IndexLookup(cache.ids.logins, cache.ids.logins_db_role_key, 1, attnos, procs,
						values, VisitLogin, &result);
		}
		else if (cache.ids.installed)
		{
			static const RegProcedure procs[] = {F_NAMEEQ};
			char	   *rolname = GetUserNameFromId(roleid, true);
			NameData	name;
			Datum		values[1];

			if (rolname != NULL)
			{
				namestrcpy(&name, rolname);
				values[0] = NameGetDatum(&name);
				IndexLookup(cache.ids.logins, cache.ids.logins_db_role_key, 1, attnos, procs,
							values, VisitLogin, &result);
			}
		}
		entry = hash_search(cache.role_login_hash, &roleid, HASH_ENTER, NULL);
		*entry = result;
	}
	if (entry->found)
		*login = entry->login;
	return entry->found;
}

/* Notes that a logins row was found. */
static bool
VisitLoginExists(HeapTuple tuple, TupleDesc desc, void *arg)
{
	*(bool *) arg = true;
	return false;
}

/* The role column of a memberships row as a KalixRole. */
static KalixRole
RoleFromTuple(HeapTuple tuple, TupleDesc desc)
{
	bool		isnull;
	Oid			value = DatumGetObjectId(heap_getattr(tuple, Anum_memberships_role,
													  desc, &isnull));

	for (int i = 0; i < 3 && !isnull; i++)
		if (value == cache.ids.role_enum_values[i])
			return (KalixRole) i;
	return KALIX_ROLE_NONE;
}

/* What a scan of one login's memberships collects. */
typedef struct LoginMembersScan
{
	int			count;
	MemberEntry rows[PRELOAD_MEMBERSHIPS_MAX + 1];
} LoginMembersScan;

/* Collects one membership of a login; stops once there are too many. */
static bool
VisitLoginMembership(HeapTuple tuple, TupleDesc desc, void *arg)
{
	LoginMembersScan *scan = arg;
	MemberEntry *row = &scan->rows[scan->count++];
	bool		isnull;

	row->key.account = *DatumGetUUIDP(heap_getattr(tuple, Anum_memberships_account_id,
												   desc, &isnull));
	row->key.login = *DatumGetUUIDP(heap_getattr(tuple, Anum_memberships_login_id,
												 desc, &isnull));
	row->role = RoleFromTuple(tuple, desc);
	return scan->count <= PRELOAD_MEMBERSHIPS_MAX;
}

/* The cache's entry of a login, created empty ("nothing known") if new. */
static LoginEntry *
LoginEntryOf(const pg_uuid_t *login)
{
	bool		found;
	LoginEntry *entry = hash_search(cache.login_hash, login, HASH_ENTER, &found);

	if (!found)
	{
		entry->exists_known = false;
		entry->exists = false;
		entry->members_loaded = false;
		entry->members_many = false;
	}
	return entry;
}

/*
 * Reads every membership of a login into cache.member_hash, unless it has too
 * many.  A login with a membership exists (a foreign key says so).
 */
static void
PreloadMemberships(LoginEntry *entry)
{
	static const AttrNumber attnos[] = {Anum_memberships_login_id};
	static const RegProcedure procs[] = {F_UUID_EQ};
	Datum		values[] = {UUIDPGetDatum(&entry->id)};
	LoginMembersScan *scan = palloc(sizeof(LoginMembersScan));

	scan->count = 0;
	if (cache.ids.installed)
		IndexLookup(cache.ids.memberships, cache.ids.memberships_login_id_idx, 1, attnos, procs,
					values, VisitLoginMembership, scan);
	if (scan->count > PRELOAD_MEMBERSHIPS_MAX)
		entry->members_many = true;
	else
	{
		for (int i = 0; i < scan->count; i++)
			*(MemberEntry *) hash_search(cache.member_hash, &scan->rows[i].key,
										 HASH_ENTER, NULL) = scan->rows[i];
		entry->members_loaded = true;
	}
	if (scan->count > 0)
	{
		entry->exists_known = true;
		entry->exists = true;
	}
	pfree(scan);
}

/* True when kalix.logins has a row with this id. */
bool
KalixLoginExists(const pg_uuid_t *login)
{
	LoginEntry *entry = LoginEntryOf(login);

	if (!entry->exists_known && !entry->members_loaded && !entry->members_many)
		PreloadMemberships(entry);
	if (!entry->exists_known)
	{
		static const AttrNumber attnos[] = {Anum_logins_id};
		static const RegProcedure procs[] = {F_UUID_EQ};
		Datum		values[] = {UUIDPGetDatum(login)};
		bool		exists = false;

		if (cache.ids.installed)
			IndexLookup(cache.ids.logins, cache.ids.logins_pkey, 1, attnos, procs, values,
						VisitLoginExists, &exists);
		entry->exists = exists;
		entry->exists_known = true;
	}
	return entry->exists;
}

/* Takes the role of a memberships row. */
static bool
VisitMembership(HeapTuple tuple, TupleDesc desc, void *arg)
{
	((MemberEntry *) arg)->role = RoleFromTuple(tuple, desc);
	return false;
}

/* The login's role in the account, KALIX_ROLE_NONE when not a member. */
KalixRole
KalixMemberRole(const pg_uuid_t *account, const pg_uuid_t *login)
{
	MemberKey	key;
	MemberEntry *entry;
	LoginEntry *login_entry;

	key.account = *account;
	key.login = *login;
	entry = hash_search(cache.member_hash, &key, HASH_FIND, NULL);
	if (entry != NULL)
		return entry->role;

	login_entry = LoginEntryOf(login);
	if (!login_entry->members_loaded && !login_entry->members_many)
	{
		PreloadMemberships(login_entry);
		entry = hash_search(cache.member_hash, &key, HASH_FIND, NULL);
		if (entry != NULL)
			return entry->role;
	}
	if (login_entry->members_loaded)
		return KALIX_ROLE_NONE;

	/* A login with many memberships: this pair alone. */
	{
		static const AttrNumber attnos[] = {Anum_memberships_account_id,
		Anum_memberships_login_id};
		static const RegProcedure procs[] = {F_UUID_EQ, F_UUID_EQ};
		Datum		values[] = {UUIDPGetDatum(&key.account), UUIDPGetDatum(&key.login)};
		MemberEntry result = {0};

		result.key = key;
		result.role = KALIX_ROLE_NONE;
		if (cache.ids.installed)
			IndexLookup(cache.ids.memberships, cache.ids.memberships_pkey, 2, attnos, procs, values,
						VisitMembership, &result);
		entry = hash_search(cache.member_hash, &key, HASH_ENTER, NULL);
		*entry = result;
	}
	return entry->role;
}

/* What KalixScanMemberships hands each row to. */
typedef struct MembershipScan
{
	KalixMembershipVisitor visit;
	void	   *arg;
} MembershipScan;

/* Passes one memberships row on to a KalixMembershipVisitor. */
static bool
VisitScannedMembership(HeapTuple tuple, TupleDesc desc, void *arg)
{
	MembershipScan *scan = arg;
	bool		isnull;

	scan->visit(DatumGetUUIDP(heap_getattr(tuple, Anum_memberships_account_id, desc, &isnull)),
				DatumGetUUIDP(heap_getattr(tuple, Anum_memberships_login_id, desc, &isnull)),
				RoleFromTuple(tuple, desc), scan->arg);
	return true;
}

/*
 * Reads every membership of a login (by_login) or of an account from the
 * table, as the cache reads it, and calls visit on each.
 */
void
KalixScanMemberships(const pg_uuid_t *key, bool by_login, KalixMembershipVisitor visit, void *arg)
{
	static const AttrNumber login_attnos[] = {Anum_memberships_login_id};
	static const AttrNumber account_attnos[] = {Anum_memberships_account_id};
	static const RegProcedure procs[] = {F_UUID_EQ};
	Datum		values[] = {UUIDPGetDatum(key)};
	MembershipScan scan = {visit, arg};

	KalixCacheBegin();
	if (cache.ids.installed)
		IndexLookup(cache.ids.memberships,
					by_login ? cache.ids.memberships_login_id_idx : cache.ids.memberships_pkey,
					1, by_login ? login_attnos : account_attnos, procs, values,
					VisitScannedMembership, &scan);
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

PG_FUNCTION_INFO_V1(kalix_cache_invalidate);

/*
 * Statement trigger on the extension's tables: every backend's cache is
 * invalidated when the change commits (this backend's at the next command).
 */
Datum
kalix_cache_invalidate(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("kalix.cache_invalidate() must be called as a trigger")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}
