/*
 * cache.c
 *		Per-backend cache of accounts, logins and memberships.
 *
 * Policies ask "may this login use this account?" for every query, so the
 * answers are kept in hash tables in a memory context under
 * CacheMemoryContext, filled lazily by index scans of the extension's tables.
 *
 * Invalidation is targeted (invalidate.c sends it).  A change names the keys
 * it changed: the account (its row: exists, parent, archived; and every
 * lineage through it), the children of a parent, the login (its row and all
 * its memberships), the role a login maps to.  A key hashes to one of
 * KALIX_INVAL_BUCKETS buckets; each backend keeps one counter per bucket, and
 * a message for a bucket bumps that counter.  Every entry remembers its
 * bucket's counter from when it was read (read before the scan that fills
 * it, so a message consumed during the scan makes it stale, never the other
 * way round) and counts as a miss once the counter moved: it is read again
 * in place.  A lineage depends on every account its walk read (and the
 * ancestor that stopped it), so it keeps the sum of their counters; counters
 * only grow, so an unchanged sum means no dependency changed.  The sum is
 * checked again only when some message arrived since the last check
 * (kalix_cache_generation counts messages), so the read path pays one
 * comparison.  A moved, archived or unarchived account thus makes stale the
 * lineages of its subtree and nothing else; a membership change makes stale
 * that login's entries and nothing else.
 *
 * A message for bucket b travels as a relcache invalidation of the OID
 * KALIX_INVAL_OID_BASE + b (KALIX_INVAL_OID_ALL: everything), registered
 * with CacheInvalidateRelcacheByTuple on a pg_class tuple built for it, which
 * reads only the oid and relisshared (PostgreSQL 15 to 18).  It is
 * transactional like any relcache invalidation: kept with the
 * (sub)transaction, dropped if it aborts, sent to every backend of the
 * database when it commits, and applied to this backend at its next command.
 * On receipt (LocalExecuteInvalidationMessage), RelationCacheInvalidateEntry
 * finds no relcache entry for the OID and does nothing, and the relcache
 * callbacks run: the plan cache re-plans only plans that name that OID, i.e.
 * none; this file's callback bumps the bucket.  Should a real relation ever
 * get such an OID (OIDs wrap), its relcache entry is merely rebuilt once
 * more, and its own invalidations bump a bucket in vain: harmless both ways.
 * Unlike the relcache invalidation of kalix.accounts that 1.0 sent, nothing
 * is re-planned and no relcache entry is rebuilt at every commit.  The
 * everything message, a relcache invalidation of our tables (DDL), a full
 * relcache reset (relid InvalidOid, sinval queue overflow) and a reset of the
 * role syscache clear the whole cache as before.
 *
 * The entry point, KalixCacheBegin, is the cache's freshness rule: at every
 * call it takes in pending invalidations (one unlocked test when none are
 * pending), so a commit of another session is seen also in the middle of a
 * statement, by the recheck of a row it waited for.  A full reset only
 * clears a flag; the next entry point then builds a new, empty generation
 * whole and only then swaps it for the old one, so an error at any point
 * leaves the old (stale) or no cache, never a half one.  Entries are never
 * freed while a caller holds a pointer: an entry is re-read in place by the
 * lookup of its own key, only KalixCacheBegin replaces the cache, and callers
 * do not keep pointers across calls into the cache for the same key.
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
#include "common/hashfn.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
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
	uint32		stamp;			/* counter of the login's bucket */
} MemberEntry;

/* The child accounts of one account (archived ones included). */
typedef struct ChildrenEntry
{
	pg_uuid_t	parent;			/* hash key */
	uint32		stamp;			/* counter of the parent's children bucket */
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
	uint32		stamp;			/* counter of the login's bucket */
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
	uint32		stamp;			/* counter of the role's bucket */
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
	int			missing_accounts;	/* cached "no such account" entries */
} CacheContents;

/* Cached "no such account" entries per generation; more are not kept. */
#define MISSING_ACCOUNTS_MAX 1024

static bool cache_valid = false;
static bool cache_building = false;
static bool callback_registered = false;

/*
 * The bound (kalix.cache_size): when the current generation holds a quarter
 * of it (memory blocks grow by doubling, so one may hold up to half by the
 * next check), it becomes the prior generation and a new, empty one starts;
 * an entry
 * used again moves back from the prior generation to the current one, and
 * what is still in the prior generation at the next turn -- the least
 * recently used -- is freed with it.  Both together stay within the bound.
 * Turns happen only in KalixCacheBegin, where a reset may free everything
 * anyway, so no caller holds a pointer across one.
 */
static CacheContents cache;
static CacheContents prior;
static int	kalix_cache_size = 16;	/* MB */

/* Bumped whenever cached data may have changed (any message received). */
uint64		kalix_cache_generation = 1;

/* One counter per invalidation bucket, bumped by each message for it. */
static uint32 bucket_counters[KALIX_INVAL_BUCKETS];

/* The bucket of a key of the given kind whose hash is hashvalue. */
int
KalixInvalBucket(KalixInvalKind kind, uint32 hashvalue)
{
	static const uint32 salts[] = {0x00000000, 0x5bd1e995, 0x9e3779b9, 0x85ebca6b};

	return (int) ((hashvalue ^ salts[kind]) & (KALIX_INVAL_BUCKETS - 1));
}

/* The hash of a uuid key, as the cache's tables and the messages use it. */
uint32
KalixUuidHash(const pg_uuid_t *id)
{
	return tag_hash(id, sizeof(pg_uuid_t));
}

/* The current counter of the bucket of a uuid key. */
static inline uint32
UuidCounter(KalixInvalKind kind, const pg_uuid_t *id)
{
	return bucket_counters[KalixInvalBucket(kind, KalixUuidHash(id))];
}

/* The role-syscache hash of a role, which the role's bucket derives from. */
static inline uint32
RoleCounter(Oid roleid)
{
	return bucket_counters[KalixInvalBucket(KALIX_INVAL_ROLE,
											GetSysCacheHashValue1(AUTHOID,
																  ObjectIdGetDatum(roleid)))];
}

/* Drops the whole cache: the next entry point builds a new, empty one. */
static void
ResetCache(void)
{
	cache_valid = false;
	kalix_cache_generation++;
}

/*
 * Relcache callback: a message for one bucket bumps its counter; the
 * everything message, a full reset or a change to one of our tables' own
 * relcache entries (DDL) drops the whole cache.  While a new generation is
 * being built, every other invalidation counts too: the tables it resolves
 * may not be the ones the current generation knows.
 */
static void
InvalidateCallback(Datum arg, Oid relid)
{
	if (relid >= KALIX_INVAL_OID_BASE && relid < KALIX_INVAL_OID_ALL)
	{
		bucket_counters[relid - KALIX_INVAL_OID_BASE]++;
		kalix_cache_generation++;
	}
	else if (relid == KALIX_INVAL_OID_ALL || cache_building || relid == InvalidOid ||
			 !cache.ids.installed || relid == cache.ids.accounts ||
			 relid == cache.ids.logins || relid == cache.ids.memberships ||
			 relid == cache.ids.accounts_shell || relid == cache.ids.logins_shell ||
			 relid == cache.ids.memberships_shell)
		ResetCache();
}

/*
 * Syscache callback: a role created, renamed or dropped changes which login
 * it is; hashvalue 0 means every role.
 */
static void
RoleInvalidateCallback(Datum arg, int cacheid, uint32 hashvalue)
{
	if (hashvalue == 0)
		ResetCache();
	else
	{
		bucket_counters[KalixInvalBucket(KALIX_INVAL_ROLE, hashvalue)]++;
		kalix_cache_generation++;
	}
}

/*
 * Defines the cache's setting and registers its invalidation callbacks, once
 * per backend.  _PG_init calls it before guc.c reserves the prefix kalix, so
 * that a kalix.cache_size set before the library loaded is kept.
 */
void
KalixCacheRegister(void)
{
	if (!callback_registered)
	{
		DefineCustomIntVariable("kalix.cache_size",
								"Memory limit of each backend's kalix_accounts cache.",
								"Beyond it, the least recently used entries are evicted.",
								&kalix_cache_size, 16, 1, 65536, PGC_SUSET, GUC_UNIT_MB,
								NULL, NULL, NULL);
		CacheRegisterRelcacheCallback(InvalidateCallback, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHOID, RoleInvalidateCallback, (Datum) 0);
		callback_registered = true;
	}
}

/*
 * Creates one of the cache's hash tables in the given context.  Tables keyed
 * by a uuid hash it with KalixUuidHash, so that a lookup hashes its key once
 * for the table and for the key's invalidation bucket.
 */
static HTAB *
CreateHash(const char *name, Size keysize, Size entrysize, MemoryContext context)
{
	HASHCTL		ctl;
	int			flags = HASH_ELEM | HASH_CONTEXT;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	ctl.hcxt = context;
	if (keysize == sizeof(pg_uuid_t))
	{
		ctl.hash = tag_hash;
		flags |= HASH_FUNCTION;
	}
	else
		flags |= HASH_BLOBS;
	return hash_create(name, 256, &ctl, flags);
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

/* Creates the memory context and empty tables of a new generation. */
static void
CreateTables(CacheContents *fresh)
{
	/* Small blocks: the bound counts allocated blocks, checked between calls. */
	fresh->context = AllocSetContextCreate(CurrentMemoryContext, "kalix_accounts cache",
										   0, 8 * 1024, 64 * 1024);
	fresh->account_hash = CreateHash("kalix accounts", sizeof(pg_uuid_t),
									 sizeof(KalixAccount), fresh->context);
	fresh->login_hash = CreateHash("kalix logins", sizeof(pg_uuid_t),
								   sizeof(LoginEntry), fresh->context);
	fresh->role_login_hash = CreateHash("kalix role logins", sizeof(Oid),
										sizeof(RoleLoginEntry), fresh->context);
	fresh->member_hash = CreateHash("kalix memberships", sizeof(MemberKey),
									sizeof(MemberEntry), fresh->context);
	fresh->children_hash = CreateHash("kalix children", sizeof(pg_uuid_t),
									  sizeof(ChildrenEntry), fresh->context);
	fresh->missing_accounts = 0;
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

	CreateTables(&fresh);

	/* The swap: nothing below can fail. */
	MemoryContextSetParent(fresh.context, CacheMemoryContext);
	if (cache.context != NULL)
		MemoryContextDelete(cache.context);
	if (prior.context != NULL)
		MemoryContextDelete(prior.context);
	prior.context = NULL;
	cache = fresh;
	cache_valid = (kalix_cache_generation == generation);
}

/*
 * Turns the generations (see kalix.cache_size above): the prior one is
 * freed, the current one becomes the prior one, a new one starts empty.
 */
static void
AgeCache(void)
{
	CacheContents fresh;

	fresh.ids = cache.ids;
	CreateTables(&fresh);

	/* The swap: nothing below can fail. */
	MemoryContextSetParent(fresh.context, CacheMemoryContext);
	if (prior.context != NULL)
		MemoryContextDelete(prior.context);
	prior = cache;
	cache = fresh;
}

/*
 * The entry of a key in one of the current generation's tables (table: the
 * offset of its HTAB pointer in CacheContents), moved there from the prior
 * generation if it is only there; NULL if neither has it.  *moved says that
 * it moved: what it points to in the prior generation's memory must be
 * copied or dropped by the caller.
 */
static void *
FindEntry(size_t table, Size entrysize, const void *key, uint32 hashvalue, bool *moved)
{
	HTAB	   *current = *(HTAB **) ((char *) &cache + table);
	void	   *entry = hash_search_with_hash_value(current, key, hashvalue, HASH_FIND, NULL);
	HTAB	   *older;
	void	   *old_entry;

	*moved = false;
	if (entry != NULL || prior.context == NULL)
		return entry;
	older = *(HTAB **) ((char *) &prior + table);
	old_entry = hash_search_with_hash_value(older, key, hashvalue, HASH_FIND, NULL);
	if (old_entry == NULL)
		return NULL;
	entry = hash_search_with_hash_value(current, key, hashvalue, HASH_ENTER, NULL);
	memcpy(entry, old_entry, entrysize);
	hash_search_with_hash_value(older, key, hashvalue, HASH_REMOVE, NULL);
	*moved = true;
	return entry;
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
	{
		if (MemoryContextMemAllocated(cache.context, true) >
			(Size) kalix_cache_size * 1024 * 1024 / 4)
			AgeCache();
		return;
	}
	KalixCacheRegister();
	RebuildCache();
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

/* Frees the lineage of an account entry: it is computed again at next use. */
static void
DropLineage(KalixAccount *entry)
{
	if (entry->lineage != NULL)
		pfree(entry->lineage);
	if (entry->lineage_index != NULL)
		pfree(entry->lineage_index);
	entry->lineage = NULL;
	entry->lineage_index = NULL;
	entry->lineage_len = 0;
}

/* The sum of the counters of the buckets a lineage depends on. */
static uint64
LineageSum(const KalixAccount *entry)
{
	uint64		sum = 0;

	for (int i = 0; i < entry->lineage_len; i++)
		sum += UuidCounter(KALIX_INVAL_ACCOUNT, &entry->lineage[i]);
	if (entry->lineage_stop >= 0)
		sum += bucket_counters[entry->lineage_stop];
	return sum;
}

/*
 * Records what the lineage just computed into an entry depends on: the
 * accounts in it and stop, the missing or archived ancestor that ended the
 * walk (NULL when the payer has no parent).  generation is
 * kalix_cache_generation from before the walk: when a message arrived during
 * the walk, it may have mixed two states of the tree, and the lineage counts
 * as stale at its next use (counters only grow, so the sum can never again
 * equal one less than today's).
 */
void
KalixStampLineage(KalixAccount *entry, const pg_uuid_t *stop, uint64 generation)
{
	entry->lineage_stop = stop == NULL ? -1 :
		KalixInvalBucket(KALIX_INVAL_ACCOUNT, KalixUuidHash(stop));
	entry->lineage_sum = LineageSum(entry);
	entry->lineage_checked = kalix_cache_generation;
	if (generation != kalix_cache_generation)
	{
		entry->lineage_sum--;
		entry->lineage_checked = 0;
	}
}

/*
 * The account with this id (entry->exists false when there is none), read
 * again when a message named it since it was read.  Its lineage, if any, is
 * current: a lineage a message made stale is dropped here.
 */
KalixAccount *
KalixLookupAccount(const pg_uuid_t *id)
{
	static KalixAccount missing;	/* beyond MISSING_ACCOUNTS_MAX */
	uint32		hashvalue = KalixUuidHash(id);
	uint32	   *counter = &bucket_counters[KalixInvalBucket(KALIX_INVAL_ACCOUNT, hashvalue)];
	bool		moved;
	KalixAccount *entry = FindEntry(offsetof(CacheContents, account_hash), sizeof(KalixAccount),
									id, hashvalue, &moved);

	if (moved)
	{
		/* Its lineage stays behind: computed again from the entries, if used. */
		entry->lineage = NULL;
		entry->lineage_index = NULL;
		entry->lineage_len = 0;
	}
	if (entry != NULL && entry->stamp == *counter)
	{
		if (entry->lineage_len > 0 && entry->lineage_checked != kalix_cache_generation)
		{
			if (LineageSum(entry) == entry->lineage_sum)
				entry->lineage_checked = kalix_cache_generation;
			else
				DropLineage(entry);
		}
		return entry;
	}
	else
	{
		static const AttrNumber attnos[] = {Anum_accounts_id};
		static const RegProcedure procs[] = {F_UUID_EQ};
		Datum		values[] = {UUIDPGetDatum(id)};
		KalixAccount account = {0};
		uint32		stamp = *counter;

		/* Read first, enter after: an error must not leave a false entry. */
		account.id = *id;
		if (cache.ids.installed)
			IndexLookup(cache.ids.accounts, cache.ids.accounts_pkey, 1, attnos, procs, values,
						VisitAccount, &account);
		if (entry == NULL && !account.exists && cache.missing_accounts >= MISSING_ACCOUNTS_MAX)
		{
			/* Not kept: valid until the next lookup of a missing account. */
			missing = account;
			return &missing;
		}
		if (entry == NULL)
		{
			entry = hash_search_with_hash_value(cache.account_hash, id, hashvalue,
												HASH_ENTER, NULL);
			if (!account.exists)
				cache.missing_accounts++;
		}
		else
			DropLineage(entry);
		*entry = account;
		entry->stamp = stamp;
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
	uint32		hashvalue = KalixUuidHash(parent);
	uint32	   *counter = &bucket_counters[KalixInvalBucket(KALIX_INVAL_CHILDREN, hashvalue)];
	bool		moved;
	ChildrenEntry *entry = FindEntry(offsetof(CacheContents, children_hash), sizeof(ChildrenEntry),
									 parent, hashvalue, &moved);

	if (moved)
	{
		pg_uuid_t  *children = MemoryContextAlloc(cache.context,
												  Max(entry->count, 1) * sizeof(pg_uuid_t));

		memcpy(children, entry->children, entry->count * sizeof(pg_uuid_t));
		entry->children = children;
	}

	if (entry == NULL || entry->stamp != *counter)
	{
		static const AttrNumber attnos[] = {Anum_accounts_parent_id};
		static const RegProcedure procs[] = {F_UUID_EQ};
		Datum		values[] = {UUIDPGetDatum(parent)};
		ChildrenScan scan;
		pg_uuid_t  *children;
		uint32		stamp = *counter;
		uint64		generation = kalix_cache_generation;

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
			/*
			 * A new child enters the account cache too, unless a message
			 * arrived during the scan: then today's counter may be newer
			 * than the row read.
			 */
			if (generation == kalix_cache_generation)
			{
				bool		found;
				KalixAccount *child = hash_search(cache.account_hash, &scan.rows[i].id,
												  HASH_ENTER, &found);

				if (!found)
				{
					*child = scan.rows[i];
					child->stamp = UuidCounter(KALIX_INVAL_ACCOUNT, &child->id);
				}
			}
			children[i] = scan.rows[i].id;
		}
		pfree(scan.rows);
		if (entry == NULL)
			entry = hash_search_with_hash_value(cache.children_hash, parent, hashvalue,
												HASH_ENTER, NULL);
		else
			pfree(entry->children);
		entry->stamp = stamp;
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
	bool		moved;
	RoleLoginEntry *entry = FindEntry(offsetof(CacheContents, role_login_hash),
									  sizeof(RoleLoginEntry), &roleid,
									  get_hash_value(cache.role_login_hash, &roleid), &moved);
	uint32		stamp = RoleCounter(roleid);

	if (entry == NULL || entry->stamp != stamp)
	{
		static const AttrNumber attnos[] = {Anum_logins_db_role};
		RoleLoginEntry result = {0};

		result.roleid = roleid;
		result.stamp = stamp;
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
		if (entry == NULL)
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

/*
 * The cache's entry of a login, emptied ("nothing known") if new or if a
 * message named the login since it was filled.
 */
static LoginEntry *
LoginEntryOf(const pg_uuid_t *login)
{
	bool		moved;
	uint32		hashvalue = KalixUuidHash(login);
	uint32		stamp = bucket_counters[KalixInvalBucket(KALIX_INVAL_LOGIN, hashvalue)];
	LoginEntry *entry = FindEntry(offsetof(CacheContents, login_hash), sizeof(LoginEntry),
								  login, hashvalue, &moved);

	/* Its memberships may have stayed behind in the prior generation. */
	if (moved)
		entry->members_loaded = false;
	if (entry == NULL)
	{
		entry = hash_search_with_hash_value(cache.login_hash, login, hashvalue,
											HASH_ENTER, NULL);
		entry->members_many = false;
	}
	else if (entry->stamp == stamp)
		return entry;

	/*
	 * New, or named by a message since it was filled: nothing known.
	 * members_many stays, as a hint: a login with many memberships is asked
	 * about pair by pair, which is right however many it has now, and spares
	 * a scan of PRELOAD_MEMBERSHIPS_MAX rows after each of its changes.
	 */
	entry->stamp = stamp;
	entry->exists_known = false;
	entry->exists = false;
	entry->members_loaded = false;
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
	uint32		stamp = UuidCounter(KALIX_INVAL_LOGIN, &entry->id);

	scan->count = 0;
	if (cache.ids.installed)
		IndexLookup(cache.ids.memberships, cache.ids.memberships_login_id_idx, 1, attnos, procs,
					values, VisitLoginMembership, scan);
	if (scan->count > PRELOAD_MEMBERSHIPS_MAX)
		entry->members_many = true;
	else
	{
		for (int i = 0; i < scan->count; i++)
		{
			MemberEntry *member = hash_search(cache.member_hash, &scan->rows[i].key,
											  HASH_ENTER, NULL);

			*member = scan->rows[i];
			member->stamp = stamp;
		}
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
	bool		moved;

	uint32		stamp = UuidCounter(KALIX_INVAL_LOGIN, login);

	key.account = *account;
	key.login = *login;
	entry = FindEntry(offsetof(CacheContents, member_hash), sizeof(MemberEntry), &key,
					  get_hash_value(cache.member_hash, &key), &moved);
	if (entry != NULL && entry->stamp == stamp)
		return entry->role;
	if (entry != NULL)
		hash_search(cache.member_hash, &key, HASH_REMOVE, NULL);

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
		result.stamp = stamp;
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
