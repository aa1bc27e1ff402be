/*
 * cache.c
 *		Per-backend cache of accounts, logins and memberships.
 *
 * Policies ask "may this login use this account?" for every query, so the
 * answers are kept in a memory context under CacheMemoryContext, filled
 * lazily by index scans of the extension's tables.  Accounts and logins, one
 * each per account in the common case, are compact records (48 and 40
 * bytes, a login's one membership inside its record) carved from an arena
 * and found through an open-addressing table of pointers: about 110 bytes
 * per touched account in all, where dynahash entries cost three times that.
 * The rarer kinds (roles, pairs of logins with many memberships, children)
 * stay in dynahash tables.
 *
 * Invalidation is targeted (invalidate.c sends it).  A change names the keys
 * it changed: the account (its row: exists, parent, archived; and every
 * lineage through it), the children of a parent, the login (its row and all
 * that is known of it), a login's list of memberships, one membership (a
 * pair of account and login), the role a login maps to.  A key hashes to one of
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
 * that login's preloaded list and that one pair, and nothing else: a login
 * with too many memberships to preload (a practice group's owner) keeps its
 * row and its other pairs cached while accounts are created under it.
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
} MemberKey;			/* no padding: hashed as 32 bytes */

/* A cached membership (role KALIX_ROLE_NONE: a cached non-membership). */
typedef struct MemberEntry
{
	MemberKey	key;
	KalixRole	role;
	uint32		stamp;			/* counters of the pair's and the login's buckets, summed */
} MemberEntry;

/* The child accounts of one account (archived ones included). */
typedef struct ChildrenEntry
{
	pg_uuid_t	parent;			/* hash key */
	uint32		stamp;			/* counter of the parent's children bucket */
	int			count;
	pg_uuid_t  *children;
} ChildrenEntry;

/* One preloaded membership of a login. */
typedef struct PreloadedMember
{
	pg_uuid_t	account;
	int8		role;			/* a KalixRole */
} PreloadedMember;

/*
 * What the cache knows of one login, a record of 40 bytes.  The first
 * membership question about a login reads all its memberships at once (one
 * index scan; a login usually has a handful), into the record itself when
 * there is one (the common case) or else into a sorted array, so later
 * questions about its other accounts, and about accounts it does not belong
 * to, need no scan.  A login with more than PRELOAD_MEMBERSHIPS_MAX
 * memberships is asked about pair by pair instead (member_hash).
 */
typedef struct LoginEntry
{
	pg_uuid_t	id;				/* key */
	uint32		stamp;			/* LoginStamp when it was filled */
	uint8		flags;			/* LOGIN_* */
	int8		one_role;		/* nmembers 1: the role of the membership */
	uint16		nmembers;		/* preloaded memberships (LOGIN_MEMBERS_LOADED) */
	union
	{
		pg_uuid_t	one;		/* nmembers 1: its account */
		PreloadedMember *many;	/* nmembers > 1: sorted by account, palloc'd */
	}			members;
} LoginEntry;

#define LOGIN_EXISTS_KNOWN		0x01
#define LOGIN_EXISTS			0x02
#define LOGIN_MEMBERS_LOADED	0x04	/* every membership is in members */
#define LOGIN_MEMBERS_MANY		0x08	/* too many to preload */

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
 * A table of the records of one kind (accounts, logins), each starting with
 * its uuid key: open addressing with linear probing over an array of
 * pointers, at most four fifths full, doubled when it would be more.  Records
 * are never removed (a generation is freed whole), so no tombstones; they
 * never move (the array holds pointers), so a caller may keep a record's
 * pointer across lookups of other keys.  Per record this costs 8 bytes /
 * load (10 to 21 bytes), where a dynahash entry costs its 16-byte element
 * header, a bucket pointer and the rounding of its allocations.
 */
typedef struct UuidTable
{
	void	  **slots;
	uint32		mask;			/* slots - 1, a power of two less one */
	uint32		count;
} UuidTable;

#define UUID_TABLE_INITIAL 256
#define UUID_TABLE_FULL(count, mask) ((uint64) (count) * 5 >= ((uint64) (mask) + 1) * 4)

/*
 * Records are carved from blocks of ARENA_BLOCK bytes at their exact size:
 * no chunk header and no rounding to a power of two, as a palloc each would
 * cost.  A block larger than the context's chunk limit is a block of its own,
 * allocated and counted exactly.
 */
#define ARENA_BLOCK (32 * 1024)

/*
 * Everything one generation of the cache holds.  A new generation is built
 * whole in a fresh context, then swapped in: an error while it is built
 * leaves the previous one (or none), never a half one.
 */
typedef struct CacheContents
{
	MemoryContext context;
	CatalogIds	ids;
	UuidTable	accounts;		/* KalixAccount records */
	UuidTable	logins;			/* LoginEntry records */
	HTAB	   *role_login_hash;
	HTAB	   *member_hash;	/* pairs of logins with many memberships */
	HTAB	   *children_hash;
	char	   *arena_next;		/* free space of the current arena block */
	Size		arena_left;
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

/*
 * Set by every allocation in the current generation (CacheMemory,
 * EnterEntry) and by a change of the bound, cleared by the bound check:
 * memory that has not grown since the last check is still within the same
 * bound, so KalixCacheBegin measures the contexts only after a lookup filled
 * something or the bound changed.
 */
static bool bound_check_due = true;

/*
 * Bumped whenever cached data may have changed (any message received) or
 * memory a caller kept between calls may have been freed (a turn of the
 * generations, a rebuild).
 */
uint64		kalix_cache_generation = 1;

/* One counter per invalidation bucket, bumped by each message for it. */
static uint32 bucket_counters[KALIX_INVAL_BUCKETS];

/* The bucket of a key of the given kind whose hash is hashvalue. */
int
KalixInvalBucket(KalixInvalKind kind, uint32 hashvalue)
{
	static const uint32 salts[] = {0x00000000, 0x5bd1e995, 0x9e3779b9, 0x85ebca6b,
	0xc2b2ae35, 0x27d4eb2f};

	return (int) ((hashvalue ^ salts[kind]) & (KALIX_INVAL_BUCKETS - 1));
}

/* The hash of a uuid key, as the cache's tables and the messages use it. */
uint32
KalixUuidHash(const pg_uuid_t *id)
{
	return tag_hash(id, sizeof(pg_uuid_t));
}

/* The hash of a membership's key, (account, login), for its message. */
uint32
KalixMembershipHash(const pg_uuid_t *account, const pg_uuid_t *login)
{
	MemberKey	key;

	key.account = *account;
	key.login = *login;
	return tag_hash(&key, sizeof(MemberKey));
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

/* Assign hook of kalix.cache_size: the next entry point checks the new bound. */
static void
AssignCacheSize(int newval, void *extra)
{
	bound_check_due = true;
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
								NULL, AssignCacheSize, NULL);
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

/* Memory of the current generation (flags as MemoryContextAllocExtended's), noted for the bound. */
static void *
CacheMemory(Size size, int flags)
{
	bound_check_due = true;
	return MemoryContextAllocExtended(cache.context, size, flags);
}

/* Enters a key into one of the current generation's hash tables, noted for the bound. */
static void *
EnterEntry(HTAB *table, const void *key, uint32 hashvalue)
{
	bound_check_due = true;
	return hash_search_with_hash_value(table, key, hashvalue, HASH_ENTER, NULL);
}

/* Creates an empty UuidTable in the given context. */
static void
CreateUuidTable(UuidTable *table, MemoryContext context)
{
	table->slots = MemoryContextAllocZero(context, UUID_TABLE_INITIAL * sizeof(void *));
	table->mask = UUID_TABLE_INITIAL - 1;
	table->count = 0;
}

/* The record with this key in a UuidTable, NULL if none. */
static inline void *
UuidTableFind(const UuidTable *table, const pg_uuid_t *key, uint32 hashvalue)
{
	for (uint32 i = hashvalue & table->mask;; i = (i + 1) & table->mask)
	{
		void	   *record = table->slots[i];

		if (record == NULL || memcmp(record, key, sizeof(pg_uuid_t)) == 0)
			return record;
	}
}

/* Puts a record into a slot of a slot array that has a free one. */
static void
UuidTablePlace(void **slots, uint32 mask, void *record, uint32 hashvalue)
{
	uint32		i = hashvalue & mask;

	while (slots[i] != NULL)
		i = (i + 1) & mask;
	slots[i] = record;
}

/*
 * Adds a record whose key the table does not hold, doubling the table
 * first when it is full; an error (out of memory) leaves the table as it was.
 */
static void
UuidTableInsert(UuidTable *table, void *record, uint32 hashvalue)
{
	if (UUID_TABLE_FULL(table->count + 1, table->mask))
	{
		uint32		mask = table->mask * 2 + 1;
		void	  **slots = CacheMemory(((Size) mask + 1) * sizeof(void *),
										MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);

		for (uint32 i = 0; i <= table->mask; i++)
			if (table->slots[i] != NULL)
				UuidTablePlace(slots, mask, table->slots[i],
							   KalixUuidHash((const pg_uuid_t *) table->slots[i]));
		pfree(table->slots);
		table->slots = slots;
		table->mask = mask;
	}
	UuidTablePlace(table->slots, table->mask, record, hashvalue);
	table->count++;
}

/* Exact-size memory for a record in the current generation's arena. */
static void *
ArenaAlloc(Size size)
{
	void	   *record;

	size = MAXALIGN(size);
	Assert(size <= ARENA_BLOCK);
	if (cache.arena_left < size)
	{
		cache.arena_next = CacheMemory(ARENA_BLOCK, 0);
		cache.arena_left = ARENA_BLOCK;
	}
	record = cache.arena_next;
	cache.arena_next += size;
	cache.arena_left -= size;
	return record;
}

/*
 * A new record for a key, zeroed except for the key, entered into one of
 * the current generation's tables (table: the offset of its UuidTable in
 * CacheContents).
 */
static void *
NewRecord(size_t table, Size size, const pg_uuid_t *key, uint32 hashvalue)
{
	void	   *record = ArenaAlloc(size);

	memset(record, 0, size);
	memcpy(record, key, sizeof(pg_uuid_t));
	UuidTableInsert((UuidTable *) ((char *) &cache + table), record, hashvalue);
	return record;
}

/* Creates the memory context and empty tables of a new generation. */
static void
CreateTables(CacheContents *fresh)
{
	/* Small blocks: the bound counts allocated blocks, checked between calls. */
	fresh->context = AllocSetContextCreate(CurrentMemoryContext, "kalix_accounts cache",
										   0, 8 * 1024, 64 * 1024);
	CreateUuidTable(&fresh->accounts, fresh->context);
	CreateUuidTable(&fresh->logins, fresh->context);
	fresh->arena_next = NULL;
	fresh->arena_left = 0;
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
	/* What callers kept between calls (a lineage) may have been freed. */
	kalix_cache_generation++;
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
	entry = EnterEntry(current, key, hashvalue);
	memcpy(entry, old_entry, entrysize);
	hash_search_with_hash_value(older, key, hashvalue, HASH_REMOVE, NULL);
	*moved = true;
	return entry;
}

/*
 * The record of a key in one of the current generation's UuidTables (table:
 * its offset in CacheContents), copied there from the prior generation if it
 * is only there (the prior copy is left, unreachable, to be freed with its
 * generation); NULL if neither has it.  *moved says that it moved: what it
 * points to in the prior generation's memory must be copied or dropped by
 * the caller.
 */
static void *
FindRecord(size_t table, Size size, const pg_uuid_t *key, uint32 hashvalue, bool *moved)
{
	void	   *record = UuidTableFind((UuidTable *) ((char *) &cache + table), key, hashvalue);
	void	   *old_record;

	*moved = false;
	if (record != NULL || prior.context == NULL)
		return record;
	old_record = UuidTableFind((UuidTable *) ((char *) &prior + table), key, hashvalue);
	if (old_record == NULL)
		return NULL;
	record = NewRecord(table, size, key, hashvalue);
	memcpy(record, old_record, size);
	*moved = true;
	return record;
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
		if (bound_check_due)
		{
			bound_check_due = false;
			if (MemoryContextMemAllocated(cache.context, true) >
				(Size) kalix_cache_size * 1024 * 1024 / 4)
				AgeCache();
		}
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
	return CacheMemory(size, MCXT_ALLOC_ZERO);
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
	if (entry->lineage == NULL)
		return;
	if (entry->lineage->index != NULL)
		pfree(entry->lineage->index);
	pfree(entry->lineage);
	entry->lineage = NULL;
}

/* The sum of the counters of the buckets a lineage depends on. */
static uint64
LineageSum(const KalixLineage *lineage)
{
	uint64		sum = 0;

	for (int i = 0; i < lineage->len; i++)
		sum += UuidCounter(KALIX_INVAL_ACCOUNT, &lineage->ids[i]);
	if (lineage->stop >= 0)
		sum += bucket_counters[lineage->stop];
	return sum;
}

/*
 * Records what a lineage just computed depends on: the accounts in it and
 * stop, the missing or archived ancestor that ended the walk (NULL when the
 * payer has no parent).  generation is kalix_cache_generation from before
 * the walk: when a message arrived during the walk, it may have mixed two
 * states of the tree, and the lineage counts as stale at its next use
 * (counters only grow, so the sum can never again equal one less than
 * today's).
 */
void
KalixStampLineage(KalixLineage *lineage, const pg_uuid_t *stop, uint64 generation)
{
	lineage->stop = stop == NULL ? -1 :
		KalixInvalBucket(KALIX_INVAL_ACCOUNT, KalixUuidHash(stop));
	lineage->sum = LineageSum(lineage);
	lineage->checked = kalix_cache_generation;
	if (generation != kalix_cache_generation)
	{
		lineage->sum--;
		lineage->checked = 0;
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
	KalixAccount *entry = FindRecord(offsetof(CacheContents, accounts), sizeof(KalixAccount),
									 id, hashvalue, &moved);

	if (moved)
	{
		/* Its lineage stays behind: computed again from the entries, if used. */
		entry->lineage = NULL;
	}
	if (entry != NULL && entry->stamp == *counter)
	{
		if (entry->lineage != NULL && entry->lineage->checked != kalix_cache_generation)
		{
			if (LineageSum(entry->lineage) == entry->lineage->sum)
				entry->lineage->checked = kalix_cache_generation;
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
			entry = NewRecord(offsetof(CacheContents, accounts), sizeof(KalixAccount),
							  id, hashvalue);
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
		pg_uuid_t  *children = CacheMemory(Max(entry->count, 1) * sizeof(pg_uuid_t), 0);

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
		children = CacheMemory(Max(scan.count, 1) * sizeof(pg_uuid_t), 0);
		for (int i = 0; i < scan.count; i++)
		{
			/*
			 * A new child enters the account cache too, unless a message
			 * arrived during the scan: then today's counter may be newer
			 * than the row read.
			 */
			if (generation == kalix_cache_generation)
			{
				uint32		child_hash = KalixUuidHash(&scan.rows[i].id);

				if (UuidTableFind(&cache.accounts, &scan.rows[i].id, child_hash) == NULL)
				{
					KalixAccount *child = NewRecord(offsetof(CacheContents, accounts),
													sizeof(KalixAccount), &scan.rows[i].id,
													child_hash);

					*child = scan.rows[i];
					child->stamp = bucket_counters[KalixInvalBucket(KALIX_INVAL_ACCOUNT,
																	child_hash)];
				}
			}
			children[i] = scan.rows[i].id;
		}
		pfree(scan.rows);
		if (entry == NULL)
			entry = EnterEntry(cache.children_hash, parent, hashvalue);
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
	uint32		hashvalue = get_hash_value(cache.role_login_hash, &roleid);
	RoleLoginEntry *entry = FindEntry(offsetof(CacheContents, role_login_hash),
									  sizeof(RoleLoginEntry), &roleid, hashvalue, &moved);
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
			entry = EnterEntry(cache.role_login_hash, &roleid, hashvalue);
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
	PreloadedMember rows[PRELOAD_MEMBERSHIPS_MAX + 1];
} LoginMembersScan;

/* Collects one membership of a login; stops once there are too many. */
static bool
VisitLoginMembership(HeapTuple tuple, TupleDesc desc, void *arg)
{
	LoginMembersScan *scan = arg;
	PreloadedMember *row = &scan->rows[scan->count++];
	bool		isnull;

	row->account = *DatumGetUUIDP(heap_getattr(tuple, Anum_memberships_account_id,
											   desc, &isnull));
	row->role = (int8) RoleFromTuple(tuple, desc);
	return scan->count <= PRELOAD_MEMBERSHIPS_MAX;
}

/* qsort/bsearch comparator of preloaded memberships, by account. */
static int
PreloadedMemberCmp(const void *a, const void *b)
{
	return memcmp(((const PreloadedMember *) a)->account.data,
				  ((const PreloadedMember *) b)->account.data, UUID_LEN);
}

/* Forgets a login's preloaded memberships, freeing their array. */
static void
DropMembers(LoginEntry *entry)
{
	if (entry->nmembers > 1)
		pfree(entry->members.many);
	entry->nmembers = 0;
	entry->flags &= ~LOGIN_MEMBERS_LOADED;
}

/*
 * The login entry LoginEntryOf returned last, while kalix_cache_generation
 * holds: a call checks the login, then its membership (kalix.act_as, the
 * SET-time checks), and nothing can move or empty the entry in between
 * without bumping the generation (a message, a turn, a rebuild).
 */
static LoginEntry *last_login = NULL;
static uint64 last_login_generation = 0;

/*
 * What a login entry's stamp is while it is fresh: the counter of the login's
 * bucket, plus the counter of its memberships list's bucket unless it is
 * asked about pair by pair (then only its pairs depend on its memberships).
 * Counters only grow, so an unchanged sum means that neither moved.
 */
static inline uint32
LoginStamp(const LoginEntry *entry, uint32 hashvalue)
{
	uint32		stamp = bucket_counters[KalixInvalBucket(KALIX_INVAL_LOGIN, hashvalue)];

	if (!(entry->flags & LOGIN_MEMBERS_MANY))
		stamp += bucket_counters[KalixInvalBucket(KALIX_INVAL_MEMBERS, hashvalue)];
	return stamp;
}

/*
 * The cache's entry of a login, emptied ("nothing known") if new or if a
 * message named the login, or the list of its memberships unless it has too
 * many to preload, since it was filled.
 */
static LoginEntry *
LoginEntryOf(const pg_uuid_t *login)
{
	bool		moved;
	uint32		hashvalue;
	LoginEntry *entry;

	if (last_login_generation == kalix_cache_generation &&
		memcmp(last_login->id.data, login->data, UUID_LEN) == 0)
		return last_login;
	hashvalue = KalixUuidHash(login);
	entry = FindRecord(offsetof(CacheContents, logins), sizeof(LoginEntry), login, hashvalue,
					   &moved);

	/* An array of memberships stayed behind in the prior generation. */
	if (moved && entry->nmembers > 1)
	{
		entry->nmembers = 0;
		entry->flags &= ~LOGIN_MEMBERS_LOADED;
	}
	if (entry == NULL || entry->stamp != LoginStamp(entry, hashvalue))
	{
		if (entry == NULL)
			entry = NewRecord(offsetof(CacheContents, logins), sizeof(LoginEntry), login,
							  hashvalue);
		else
			DropMembers(entry);

		/*
		 * New, or named by a message since it was filled: nothing known.
		 * LOGIN_MEMBERS_MANY stays, as a hint: a login with many memberships
		 * is asked about pair by pair, which is right however many it has
		 * now, and spares a scan of PRELOAD_MEMBERSHIPS_MAX rows after each
		 * of its changes.
		 */
		entry->flags &= LOGIN_MEMBERS_MANY;
		entry->stamp = LoginStamp(entry, hashvalue);
	}
	last_login = entry;
	last_login_generation = kalix_cache_generation;
	return entry;
}

/*
 * Reads every membership of a login into its entry, unless it has too many.
 * The entry's stamp, taken before, covers them: a message during the scan
 * makes them stale at the next question.  A login with a membership exists
 * (a foreign key says so).
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
	{
		/*
		 * Pair by pair from now on: the stamp loses its list's counter (as
		 * read now: one that moved during the scan makes the entry stale,
		 * since the stamp then falls short of what LoginStamp gives).
		 */
		entry->flags |= LOGIN_MEMBERS_MANY;
		entry->stamp -= bucket_counters[KalixInvalBucket(KALIX_INVAL_MEMBERS,
														 KalixUuidHash(&entry->id))];
	}
	else
	{
		if (scan->count == 1)
		{
			entry->members.one = scan->rows[0].account;
			entry->one_role = scan->rows[0].role;
		}
		else if (scan->count > 1)
		{
			PreloadedMember *many = CacheMemory(scan->count * sizeof(PreloadedMember), 0);

			memcpy(many, scan->rows, scan->count * sizeof(PreloadedMember));
			qsort(many, scan->count, sizeof(PreloadedMember), PreloadedMemberCmp);
			entry->members.many = many;
		}
		entry->nmembers = (uint16) scan->count;
		entry->flags |= LOGIN_MEMBERS_LOADED;
	}
	if (scan->count > 0)
		entry->flags |= LOGIN_EXISTS_KNOWN | LOGIN_EXISTS;
	pfree(scan);
}

/* A login's role in an account from its preloaded memberships. */
static KalixRole
PreloadedRole(const LoginEntry *entry, const pg_uuid_t *account)
{
	PreloadedMember key;
	const PreloadedMember *found;

	if (entry->nmembers == 1)
		return memcmp(entry->members.one.data, account->data, UUID_LEN) == 0 ?
			(KalixRole) entry->one_role : KALIX_ROLE_NONE;
	if (entry->nmembers == 0)
		return KALIX_ROLE_NONE;
	key.account = *account;
	found = bsearch(&key, entry->members.many, entry->nmembers, sizeof(PreloadedMember),
					PreloadedMemberCmp);
	return found ? (KalixRole) found->role : KALIX_ROLE_NONE;
}

/* True when kalix.logins has a row with this id. */
bool
KalixLoginExists(const pg_uuid_t *login)
{
	LoginEntry *entry = LoginEntryOf(login);

	if (!(entry->flags & (LOGIN_EXISTS_KNOWN | LOGIN_MEMBERS_LOADED | LOGIN_MEMBERS_MANY)))
		PreloadMemberships(entry);
	if (!(entry->flags & LOGIN_EXISTS_KNOWN))
	{
		static const AttrNumber attnos[] = {Anum_logins_id};
		static const RegProcedure procs[] = {F_UUID_EQ};
		Datum		values[] = {UUIDPGetDatum(login)};
		bool		exists = false;

		if (cache.ids.installed)
			IndexLookup(cache.ids.logins, cache.ids.logins_pkey, 1, attnos, procs, values,
						VisitLoginExists, &exists);
		entry->flags |= LOGIN_EXISTS_KNOWN | (exists ? LOGIN_EXISTS : 0);
	}
	return (entry->flags & LOGIN_EXISTS) != 0;
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
	LoginEntry *login_entry = LoginEntryOf(login);
	bool		moved;
	uint32		hashvalue;
	uint32		stamp;

	if (!(login_entry->flags & (LOGIN_MEMBERS_LOADED | LOGIN_MEMBERS_MANY)))
		PreloadMemberships(login_entry);
	if (login_entry->flags & LOGIN_MEMBERS_LOADED)
		return PreloadedRole(login_entry, account);

	/*
	 * A login with many memberships: this pair alone, stale once a message
	 * named the pair or the login (counters only grow, so an unchanged sum
	 * means that neither moved; LoginEntryOf took the login's in).
	 */
	key.account = *account;
	key.login = *login;
	hashvalue = KalixMembershipHash(account, login);
	stamp = bucket_counters[KalixInvalBucket(KALIX_INVAL_MEMBERSHIP, hashvalue)] +
		login_entry->stamp;
	entry = FindEntry(offsetof(CacheContents, member_hash), sizeof(MemberEntry), &key,
					  hashvalue, &moved);
	if (entry != NULL && entry->stamp == stamp)
		return entry->role;
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
		if (entry == NULL)
			entry = EnterEntry(cache.member_hash, &key, hashvalue);
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
 * insufficient_privilege error that reveals nothing to non-members.  For a
 * caller that entered the cache (KalixCacheBegin) earlier in the same call.
 */
KalixRole
KalixCachedAccess(const pg_uuid_t *account, const pg_uuid_t *login, bool raise)
{
	KalixAccount *entry = KalixLookupAccount(account);
	KalixRole	role = KALIX_ROLE_NONE;
	bool		archived;

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

/* KalixCachedAccess as a cache entry point of its own: takes in invalidations first. */
KalixRole
KalixCheckAccess(const pg_uuid_t *account, const pg_uuid_t *login, bool raise)
{
	KalixCacheBegin();
	return KalixCachedAccess(account, login, raise);
}
