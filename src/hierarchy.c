/*
 * hierarchy.c
 *		Child accounts: lineage(), lineage_distance(), descendants() and
 *		billing_account(), answered from the backend cache.
 *
 * The lineage of an account -- itself, its parent, ..., its payer -- is
 * computed on first use and kept with the account's cache entry (one
 * allocation: a KalixLineage) until a message names one of the accounts its
 * walk read (cache.c), so the policies of inherited tables, which call
 * lineage() once per scan, cost a hash lookup and a short search, and
 * lineage_distance(), called once per row, a comparison (the lineage it used
 * last is kept while the cache's generation holds) and the search.  Only
 * accounts whose lineage is asked for carry one: the cache's records of the
 * others hold just their row.  A walk stops before the first archived
 * ancestor: an archived account shares nothing and pays for nothing.  (link_child and
 * archive_account never let an unarchived account have an archived ancestor;
 * only direct writes to kalix.accounts can.)  Walks are loops, not
 * recursion, and end with an error on a cycle or on a lineage longer than
 * KALIX_LINEAGE_LIMIT, which likewise only direct writes can create.
 * KalixWalkLineage is the one lineage walker: the cache uses it here, and
 * the write path (tree.c) with the tables read after its locks, so both
 * follow the same rules and limits.
 *
 * The cache reads each account with the latest snapshot, so a walk that
 * meets an invalidation halfway may mix two states of the tree; when that
 * makes a walk look corrupt, the walk is done again once (reading again what
 * the invalidation named) before an error is raised, and a lineage computed
 * across an invalidation is computed again at its next use.
 */
#include "postgres.h"

#include <string.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "kalix.h"
#include "errors.h"
#include "hierarchy.h"

/* Lineages longer than this get a sorted index for lineage_distance(). */
#define LINEAGE_LINEAR_MAX 16

/* One member of a long lineage, in a copy sorted by id. */
typedef struct KalixLineageIndex
{
	pg_uuid_t	id;
	int			distance;
} KalixLineageIndex;

/* qsort/bsearch comparator of lineage index entries. */
static int
LineageIndexCmp(const void *a, const void *b)
{
	return KalixUuidCompare(&((const KalixLineageIndex *) a)->id,
				   &((const KalixLineageIndex *) b)->id);
}

/* True when a chain of ids names one account twice. */
static bool
ChainHasRepeat(const pg_uuid_t *chain, int len)
{
	for (int i = 0; i < len; i++)
	{
		CHECK_FOR_INTERRUPTS();
		for (int j = i + 1; j < len; j++)
			if (KalixUuidCompare(&chain[i], &chain[j]) == 0)
				return true;
	}
	return false;
}

/* Raises the error for a corrupt walk that started at the given account. */
void
KalixReportCorruptWalk(KalixWalkResult result, const pg_uuid_t *account)
{
	if (result == KALIX_WALK_CYCLE)
		KalixRaiseParentCycle(account);
	KalixRaiseLineageTooLong(account);
}

/*
 * The one lineage walker: follows parent_id from `start`, reading each
 * account through `lookup` (the backend cache, or the tables under a lock),
 * and fills chain (room for KALIX_LINEAGE_LIMIT ids) with [start, parent,
 * ..., payer] and, when it is not NULL, *first with what the source says of
 * `start` itself.  The walk stops before the first missing or archived
 * ancestor, and appends a lineage the source already knows whole.  Returns
 * KALIX_WALK_OK, or why it stopped early (then chain is not a lineage).
 */
KalixWalkResult
KalixWalkLineage(const pg_uuid_t *start, KalixAccountLookup lookup,
				 pg_uuid_t *chain, int *len, KalixAccount *first)
{
	const KalixAccount *cur = lookup(start);
	pg_uuid_t	next;

	if (first != NULL)
		*first = *cur;
	*len = 0;
	chain[(*len)++] = *start;
	while (cur->has_parent)
	{
		const KalixAccount *parent;

		CHECK_FOR_INTERRUPTS();
		next = cur->parent_id;	/* lookup may reuse what cur points to */
		parent = lookup(&next);
		if (!parent->exists || parent->archived)
			break;
		if (parent->lineage != NULL)
		{
			/* A lineage computed before is acyclic: append it whole. */
			if (*len + parent->lineage->len > KALIX_LINEAGE_LIMIT)
				return KALIX_WALK_TOO_LONG;
			memcpy(&chain[*len], parent->lineage->ids, parent->lineage->len * sizeof(pg_uuid_t));
			*len += parent->lineage->len;
			break;
		}
		if (*len == KALIX_LINEAGE_LIMIT)
			return ChainHasRepeat(chain, *len) ? KALIX_WALK_CYCLE : KALIX_WALK_TOO_LONG;
		chain[(*len)++] = next;
		cur = parent;
	}
	return KALIX_WALK_OK;
}

/* The walker's source for the read path: the backend cache. */
static const KalixAccount *
CacheLookup(const pg_uuid_t *id)
{
	return KalixLookupAccount(id);
}

/*
 * Computes the lineage of a cache entry into it.  Returns KALIX_WALK_OK, or
 * what made the walk stop; then the entry is left without a lineage.
 */
static KalixWalkResult
ComputeLineage(KalixAccount *entry)
{
	uint64		generation = kalix_cache_generation;
	pg_uuid_t  *chain = palloc(KALIX_LINEAGE_LIMIT * sizeof(pg_uuid_t));
	int			len;
	KalixWalkResult result = KalixWalkLineage(&entry->id, CacheLookup, chain, &len, NULL);
	KalixLineage *lineage;
	const KalixAccount *last;
	pg_uuid_t	stop;

	if (result != KALIX_WALK_OK)
	{
		pfree(chain);
		return result;
	}
	/* The walk ended at the payer, or before its missing or archived parent. */
	last = KalixLookupAccount(&chain[len - 1]);
	stop = last->parent_id;
	lineage = KalixCacheAlloc(offsetof(KalixLineage, ids) + len * sizeof(pg_uuid_t));
	lineage->len = len;
	memcpy(lineage->ids, chain, len * sizeof(pg_uuid_t));
	pfree(chain);
	if (len > LINEAGE_LINEAR_MAX)
	{
		KalixLineageIndex *index = KalixCacheAlloc(len * sizeof(KalixLineageIndex));

		for (int i = 0; i < len; i++)
		{
			index[i].id = lineage->ids[i];
			index[i].distance = i;
		}
		qsort(index, len, sizeof(KalixLineageIndex), LineageIndexCmp);
		lineage->index = index;
	}
	KalixStampLineage(lineage, last->has_parent ? &stop : NULL, generation);
	entry->lineage = lineage;
	return KALIX_WALK_OK;
}

/*
 * The cache entry of an account with its lineage filled in.  May reset the
 * cache: callers hold no other pointer into it.
 */
static KalixAccount *
LineageEntry(const pg_uuid_t *account)
{
	for (int attempt = 0;; attempt++)
	{
		KalixAccount *entry;
		KalixWalkResult	result;
		uint64		generation;

		KalixCacheBegin();
		generation = kalix_cache_generation;
		entry = KalixLookupAccount(account);
		if (entry->lineage != NULL)
			return entry;
		result = ComputeLineage(entry);
		if (result == KALIX_WALK_OK)
			return entry;
		/* A walk across an invalidation may see a mix of two trees: retry once. */
		if (attempt > 0 || generation == kalix_cache_generation)
			KalixReportCorruptWalk(result, account);
	}
}

/*
 * The lineage of an account as the backend cache knows it, into chain (room
 * for KALIX_LINEAGE_LIMIT ids): the write path's first guess of the tree to
 * lock (its payer) and of the rows to read, checked after the lock.
 */
void
KalixCachedLineage(const pg_uuid_t *account, pg_uuid_t *chain, int *len)
{
	KalixAccount *entry = LineageEntry(account);

	memcpy(chain, entry->lineage->ids, entry->lineage->len * sizeof(pg_uuid_t));
	*len = entry->lineage->len;
}

/* Position of an account in a computed lineage; -1 when it is not in it. */
static int
LineageDistance(const KalixLineage *lineage, const pg_uuid_t *account)
{
	KalixLineageIndex key;
	KalixLineageIndex *found;

	if (lineage->index == NULL)
	{
		for (int i = 0; i < lineage->len; i++)
			if (KalixUuidCompare(&lineage->ids[i], account) == 0)
				return i;
		return -1;
	}
	key.id = *account;
	found = bsearch(&key, lineage->index, lineage->len,
					sizeof(KalixLineageIndex), LineageIndexCmp);
	return found ? found->distance : -1;
}

/*
 * The account a hierarchy function asks about: its first argument, which
 * the current login must be a member of, or when it is NULL or absent the
 * current account.  False when that is asked for and none is current.
 */
static bool
ResolveAccount(FunctionCallInfo fcinfo, pg_uuid_t *account)
{
	pg_uuid_t	login;

	if (PG_NARGS() == 0 || PG_ARGISNULL(0))
		return KalixCurrentAccount(account);
	*account = *PG_GETARG_UUID_P(0);
	if (!KalixStatementLogin(&login))
		KalixRaiseNoLogin();
	(void) KalixCachedAccess(account, &login, true);
	return true;
}

PG_FUNCTION_INFO_V1(kalix_lineage);

/* SQL: kalix.lineage(account) -- [account, parent, ..., payer]; '{}' without an account. */
Datum
kalix_lineage(PG_FUNCTION_ARGS)
{
	pg_uuid_t	account;
	KalixLineage *lineage;
	Datum	   *elems;

	if (!ResolveAccount(fcinfo, &account))
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(UUIDOID));
	lineage = LineageEntry(&account)->lineage;
	elems = palloc(lineage->len * sizeof(Datum));
	for (int i = 0; i < lineage->len; i++)
		elems[i] = UUIDPGetDatum(&lineage->ids[i]);
	/* construct_array copies the values out of the cache. */
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, lineage->len, UUIDOID,
										  UUID_LEN, false, TYPALIGN_CHAR));
}

/*
 * The lineage lineage_distance() last used, which ORDER BY and filters call
 * once per row.  Kept while kalix_cache_generation holds: each change that
 * could make it stale or free it (a message taken in, a turn of the cache's
 * generations, a rebuild) bumps the generation.  generation 0: none kept.
 */
static struct
{
	uint64		generation;
	pg_uuid_t	account;
	const KalixLineage *lineage;
}			last_lineage;

/* The lineage of an account: the one kept when it still holds, else the cache's. */
static const KalixLineage *
KeptLineage(const pg_uuid_t *account)
{
	const KalixLineage *lineage;

	if (last_lineage.generation == kalix_cache_generation &&
		KalixUuidCompare(&last_lineage.account, account) == 0)
		return last_lineage.lineage;
	lineage = LineageEntry(account)->lineage;
	/* One computed across an invalidation is not kept: its next use computes it again. */
	last_lineage.generation = lineage->checked == kalix_cache_generation ? kalix_cache_generation : 0;
	last_lineage.account = *account;
	last_lineage.lineage = lineage;
	return lineage;
}

PG_FUNCTION_INFO_V1(kalix_lineage_distance);

/* SQL: kalix.lineage_distance(account) -- its position in the current lineage, or NULL. */
Datum
kalix_lineage_distance(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *account = PG_GETARG_UUID_P(0);
	pg_uuid_t	current;
	int			distance;

	/* Takes in invalidations (at every row: a row rechecked after a lock wait sees a revocation). */
	if (!KalixCurrentAccount(&current))
		PG_RETURN_NULL();
	distance = LineageDistance(KeptLineage(&current), account);
	if (distance < 0)
		PG_RETURN_NULL();
	PG_RETURN_INT32(distance);
}

PG_FUNCTION_INFO_V1(kalix_billing_account);

/* SQL: kalix.billing_account(account) -- the payer: the last account of the lineage. */
Datum
kalix_billing_account(PG_FUNCTION_ARGS)
{
	pg_uuid_t	account;
	KalixLineage *lineage;

	if (!ResolveAccount(fcinfo, &account))
		PG_RETURN_NULL();
	lineage = LineageEntry(&account)->lineage;
	return KalixUuidDatum(&lineage->ids[lineage->len - 1]);
}

/* The unarchived descendants of an account found by a breadth-first walk. */
typedef struct Descendants
{
	int			count;
	int			allocated;
	pg_uuid_t  *ids;
	int		   *depths;
} Descendants;

/*
 * Collects an account and its unarchived descendants, nearest first; an
 * archived account hides its subtree, as it ends the lineages below it.
 */
static KalixWalkResult
WalkDescendants(const pg_uuid_t *account, Descendants *out)
{
	out->count = 1;
	out->allocated = 64;
	out->ids = palloc(out->allocated * sizeof(pg_uuid_t));
	out->depths = palloc(out->allocated * sizeof(int));
	out->ids[0] = *account;
	out->depths[0] = 0;
	for (int i = 0; i < out->count; i++)
	{
		pg_uuid_t	parent = out->ids[i];
		int			depth = out->depths[i] + 1;
		int			nchildren;
		const pg_uuid_t *children;

		CHECK_FOR_INTERRUPTS();
		children = KalixLookupChildren(&parent, &nchildren);
		for (int c = 0; c < nchildren; c++)
		{
			if (KalixUuidCompare(&children[c], account) == 0)
				return KALIX_WALK_CYCLE;
			if (KalixLookupAccount(&children[c])->archived)
				continue;
			if (depth >= KALIX_LINEAGE_LIMIT)
				return KALIX_WALK_TOO_LONG;
			if (out->count == out->allocated)
			{
				out->allocated *= 2;
				out->ids = repalloc(out->ids, out->allocated * sizeof(pg_uuid_t));
				out->depths = repalloc(out->depths, out->allocated * sizeof(int));
			}
			out->ids[out->count] = children[c];
			out->depths[out->count] = depth;
			out->count++;
		}
	}
	return KALIX_WALK_OK;
}

PG_FUNCTION_INFO_V1(kalix_descendants);

/* SQL: kalix.descendants(account) -- the account (depth 0) and every unarchived descendant. */
Datum
kalix_descendants(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	pg_uuid_t	account;
	Descendants found;

	InitMaterializedSRF(fcinfo, 0);
	if (!ResolveAccount(fcinfo, &account))
		return (Datum) 0;
	for (int attempt = 0;; attempt++)
	{
		KalixWalkResult	result;
		uint64		generation;

		KalixCacheBegin();
		generation = kalix_cache_generation;
		result = WalkDescendants(&account, &found);
		if (result == KALIX_WALK_OK)
			break;
		/* A walk across an invalidation may see a mix of two trees: retry once. */
		if (attempt > 0 || generation == kalix_cache_generation)
			KalixReportCorruptWalk(result, &account);
		pfree(found.ids);
		pfree(found.depths);
	}
	for (int i = 0; i < found.count; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = UUIDPGetDatum(&found.ids[i]);
		values[1] = Int32GetDatum(found.depths[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
