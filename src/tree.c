/*
 * tree.c
 *		Changes to the shape of the account hierarchy: link_child(),
 *		unlink_child(), and the locks of create_account(child => true) and
 *		archive_account().
 *
 * Lock design: a hierarchy change locks the trees it changes, not the
 * database.  A tree is named by its root (its payer), so a change first
 * locks the root row of every tree involved -- link_child the child (a root,
 * since it has no parent) and the parent's root; unlink_child, archive and
 * create_account(child) the root of their account's tree -- in id order, by
 * updating the row without changing it (UPDATE kalix.accounts SET created_at
 * = created_at: a column that no index and no trigger's column list names, so
 * the cache triggers do not fire and no cached lineage through the root goes
 * stale), taking the roots the backend cache names as its first guess.
 * Then it walks the lineages in the table (one statement reads the rows of
 * the lineage last known, the cache's at first; the walker asks a statement
 * of its own only for an account they do not hold): a root can change while
 * we wait (the tree was linked under another one, or split by an unlink),
 * and a new root is locked too, until every account's root is held.  Only
 * then are the checks made, on fresh reads of the tables: the caller's role
 * (membership FOR SHARE, as access.c does), archived accounts, cycles, the
 * lineage length and the subtree height.
 *
 * Why that suffices.  Every change that can affect a tree's shape holds its
 * root: two links that would close a cycle (A under B and B under A, or a
 * longer ring) involve the same trees and take turns; so do a link under an
 * account and its archiving, a child created under it and its archiving,
 * and two changes that together would exceed kalix.max_depth.  The second
 * of two such changes waits for the first to commit, and then sees it:
 * under READ COMMITTED each later statement takes a new snapshot; under
 * REPEATABLE READ and SERIALIZABLE, updating a root row that a transaction
 * updated and committed after our snapshot fails with serialization_failure
 * (the application retries), and since every hierarchy change updates the
 * roots it holds, a stale snapshot can never let a cycle or an over-deep
 * tree through.  Changes in disjoint trees lock disjoint rows and never
 * wait for each other.  Locking in id order keeps two changes from
 * deadlocking; only a root that changed while we waited is locked out of
 * order, and a deadlock that this can cause (rare: it needs a third change
 * that moved a root meanwhile) is detected and rolled back by PostgreSQL.
 * The update is HOT (no indexed column changes) and NO KEY UPDATE, so
 * foreign-key checks of rows referencing the root do not wait; team changes
 * lock the same account rows first and memberships second, in the order used
 * here, so the two kinds of change do not deadlock.  Reads (lineage() and the
 * policies) take no lock: they use the backend cache, which the statement
 * trigger on kalix.accounts invalidates when the change commits.
 *
 * The lineages are walked by the one walker of hierarchy.c, reading the
 * table instead of the cache.
 */
#include "postgres.h"

#include <string.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "kalix.h"
#include "access.h"
#include "errors.h"
#include "hierarchy.h"
#include "reference.h"
#include "tree.h"
#include "write.h"

/* Most accounts one change locks the trees of. */
#define MAX_TREE_ACCOUNTS 2

/* An account's lineage read from the table, and its own row. */
typedef struct FreshLineage
{
	KalixAccount self;			/* exists, archived, has_parent, parent_id */
	int			len;
	pg_uuid_t	chain[KALIX_LINEAGE_LIMIT];
} FreshLineage;

/* True when id is one of the n ids. */
static bool
UuidIn(const pg_uuid_t *id, const pg_uuid_t *ids, int n)
{
	for (int i = 0; i < n; i++)
		if (KalixUuidCompare(id, &ids[i]) == 0)
			return true;
	return false;
}

/* The rows ReadLineage read ahead for one walk, as one statement saw them. */
static KalixAccount *read_ahead;
static int	nread_ahead;

/* A KalixAccount from the (id, parent_id, archived) columns of a result row. */
static void
AccountFromRow(uint64 row, KalixAccount *entry)
{
	Datum		parent;
	bool		isnull;

	memset(entry, 0, sizeof(*entry));
	entry->id = *DatumGetUUIDP(KalixResultDatum(row, 1, &isnull));
	entry->exists = true;
	parent = KalixResultDatum(row, 2, &isnull);
	entry->has_parent = !isnull;
	if (!isnull)
		entry->parent_id = *DatumGetUUIDP(parent);
	entry->archived = DatumGetBool(KalixResultDatum(row, 3, &isnull));
}

/*
 * The walker's source for the write path: kalix.accounts as the statements
 * see it -- a row read ahead, or a statement of its own for an account the
 * rows read ahead do not hold.
 */
static const KalixAccount *
FreshLookup(const pg_uuid_t *id)
{
	static KalixStatement read = {
		"SELECT a.id, a.parent_id, a.archived_at IS NOT NULL FROM kalix.accounts a "
		"WHERE a.id OPERATOR(pg_catalog.=) $1",
		1, {UUIDOID}, NULL
	};
	static KalixAccount entry;
	Datum		values[1] = {UUIDPGetDatum(id)};

	for (int i = 0; i < nread_ahead; i++)
		if (KalixUuidCompare(id, &read_ahead[i].id) == 0)
			return &read_ahead[i];
	if (KalixExecute(&read, values, NULL) == 0)
	{
		memset(&entry, 0, sizeof(entry));
		entry.id = *id;
	}
	else
		AccountFromRow(0, &entry);
	return &entry;
}

/*
 * Reads an account's lineage from the table; raises when it is corrupt.
 * `guess` is the lineage last known (n ids): one statement reads their rows,
 * so a lineage that did not change costs one statement, whatever its length.
 */
static void
ReadLineage(const pg_uuid_t *account, const pg_uuid_t *guess, int n, FreshLineage *out)
{
	static KalixStatement rows = {
		"SELECT a.id, a.parent_id, a.archived_at IS NOT NULL FROM kalix.accounts a "
		"WHERE a.id OPERATOR(pg_catalog.=) ANY ($1)",
		1, {UUIDARRAYOID}, NULL
	};
	Datum	   *ids = palloc(n * sizeof(Datum));
	Datum		values[1];
	uint64		found;
	KalixWalkResult result;

	for (int i = 0; i < n; i++)
		ids[i] = UUIDPGetDatum(&guess[i]);
	values[0] = PointerGetDatum(construct_array(ids, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	found = KalixExecute(&rows, values, NULL);
	read_ahead = palloc(Max(found, 1) * sizeof(KalixAccount));
	for (uint64 row = 0; row < found; row++)
		AccountFromRow(row, &read_ahead[row]);
	nread_ahead = (int) found;
	result = KalixWalkLineage(account, FreshLookup, out->chain, &out->len, &out->self);
	nread_ahead = 0;
	pfree(read_ahead);
	pfree(ids);
	if (result != KALIX_WALK_OK)
		KalixReportCorruptWalk(result, account);
}

/* Locks the root row of a tree by updating it to itself (see above). */
static void
LockRoot(const pg_uuid_t *root)
{
	static KalixStatement touch = {
		"UPDATE kalix.accounts a SET created_at = a.created_at "
		"WHERE a.id OPERATOR(pg_catalog.=) $1",
		1, {UUIDOID}, NULL
	};
	Datum		values[1] = {UUIDPGetDatum(root)};

	(void) KalixExecute(&touch, values, NULL);
}

/*
 * Locks the trees of n accounts (their roots, in id order) and returns
 * their lineages read after the locks, once every root is one we hold.  The
 * first roots locked are the backend cache's guess; the walks after each
 * lock read the table, starting from the lineage found before (the cache's
 * in the first round).
 */
static void
LockTrees(int n, const pg_uuid_t *accounts, FreshLineage *lineages)
{
	pg_uuid_t  *locked = NULL;
	int			nlocked = 0;

	Assert(n <= MAX_TREE_ACCOUNTS);
	for (int round = 0;; round++)
	{
		pg_uuid_t	wanted[MAX_TREE_ACCOUNTS];
		int			nwanted = 0;

		for (int i = 0; i < n; i++)
		{
			pg_uuid_t	root;

			if (round == 0)
				KalixCachedLineage(&accounts[i], lineages[i].chain, &lineages[i].len);
			else
				ReadLineage(&accounts[i], lineages[i].chain, lineages[i].len, &lineages[i]);
			root = lineages[i].chain[lineages[i].len - 1];
			if (!UuidIn(&root, locked, nlocked) && !UuidIn(&root, wanted, nwanted))
				wanted[nwanted++] = root;
		}
		if (nwanted == 0 && round > 0)
			break;
		qsort(wanted, nwanted, sizeof(pg_uuid_t), KalixUuidCompare);
		locked = locked ? repalloc(locked, (nlocked + nwanted) * sizeof(pg_uuid_t))
			: palloc((nlocked + nwanted) * sizeof(pg_uuid_t));
		for (int i = 0; i < nwanted; i++)
		{
			LockRoot(&wanted[i]);
			locked[nlocked++] = wanted[i];
		}
	}
	if (locked)
		pfree(locked);
}

/* Locks the tree of an account (archive_account). */
void
KalixLockTreeOf(const pg_uuid_t *account)
{
	FreshLineage *lineage = palloc(sizeof(FreshLineage));

	LockTrees(1, account, lineage);
	pfree(lineage);
}

/*
 * Locks the tree of the parent of an account about to be created, then
 * refuses an archived parent or a lineage longer than kalix.max_depth.
 */
void
KalixLockForNewChild(const pg_uuid_t *parent)
{
	FreshLineage *lineage = palloc(sizeof(FreshLineage));

	LockTrees(1, parent, lineage);
	if (lineage->self.archived)
		KalixRaiseArchived(parent);
	if (lineage->len + 1 > kalix_max_depth)
		KalixRaiseChildTooDeep(parent, lineage->len + 1);
	pfree(lineage);
}

/*
 * The height of an account's subtree read from the table, counting the
 * account as 1; stops counting above `limit`.
 */
static int
SubtreeHeight(const pg_uuid_t *account, int limit)
{
	static KalixStatement children = {
		"SELECT a.id FROM kalix.accounts a "
		"WHERE a.parent_id OPERATOR(pg_catalog.=) ANY ($1)",
		1, {UUIDARRAYOID}, NULL
	};
	int			height = 0;
	int			nlevel = 1;
	Datum	   *level = palloc(sizeof(Datum));

	level[0] = UUIDPGetDatum(account);
	while (nlevel > 0 && height <= limit)
	{
		Datum		values[1];
		uint64		found;

		CHECK_FOR_INTERRUPTS();
		height++;
		values[0] = PointerGetDatum(construct_array(level, nlevel, UUIDOID, UUID_LEN,
													false, TYPALIGN_CHAR));
		found = KalixExecute(&children, values, NULL);
		level = repalloc(level, Max(found, 1) * sizeof(Datum));
		for (uint64 i = 0; i < found; i++)
		{
			bool		isnull;
			pg_uuid_t  *id = palloc(sizeof(pg_uuid_t));

			*id = *DatumGetUUIDP(KalixResultDatum(i, 1, &isnull));
			level[i] = UUIDPGetDatum(id);
		}
		nlevel = (int) found;
	}
	return height;
}

/* The audit detail of a link. */
static char *
LinkDetail(const pg_uuid_t *child, const pg_uuid_t *parent, const pg_uuid_t *payer)
{
	StringInfoData detail;

	KalixJsonBegin(&detail);
	KalixJsonUuid(&detail, "child_id", child);
	KalixJsonUuid(&detail, "parent_id", parent);
	KalixJsonUuid(&detail, "payer_id", payer);
	KalixJsonEnd(&detail);
	return detail.data;
}

PG_FUNCTION_INFO_V1(kalix_link_child);

/*
 * SQL: kalix.link_child(child, parent) -- admin of both, and of the parent's
 * payer when the parent is not a root.
 */
Datum
kalix_link_child(PG_FUNCTION_ARGS)
{
	static KalixStatement link = {
		"UPDATE kalix.accounts a SET parent_id = $2 WHERE a.id OPERATOR(pg_catalog.=) $1",
		2, {UUIDOID, UUIDOID}, NULL
	};
	pg_uuid_t	ids[2];
	pg_uuid_t  *child = &ids[0];
	pg_uuid_t  *parent = &ids[1];
	FreshLineage *lineages;
	const pg_uuid_t *payer;
	int			height;
	Datum		values[2];
	char	   *detail;
	pg_uuid_t	audited[3];

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		KalixRaiseNullArgument("child and parent");
	*child = *PG_GETARG_UUID_P(0);
	*parent = *PG_GETARG_UUID_P(1);
	if (KalixUuidCompare(child, parent) == 0)
		KalixRaiseOwnParent(child);
	if (KalixCachedRole(child) < KALIX_ROLE_ADMIN || KalixCachedRole(parent) < KALIX_ROLE_ADMIN)
		KalixRaiseCannotLink(child, parent);

	KalixWriteBegin();
	lineages = palloc(2 * sizeof(FreshLineage));
	LockTrees(2, ids, lineages);
	/* From here on every read sees the trees as the last change left them. */
	if (KalixLockedRole(child) < KALIX_ROLE_ADMIN || KalixLockedRole(parent) < KALIX_ROLE_ADMIN)
		KalixRaiseCannotLink(child, parent);
	if (lineages[0].self.archived)
		KalixRaiseArchived(child);
	if (lineages[1].self.archived)
		KalixRaiseArchived(parent);
	if (lineages[0].self.has_parent)
		KalixRaiseHasParent(child, &lineages[0].self.parent_id);
	if (UuidIn(child, lineages[1].chain, lineages[1].len))
		KalixRaiseWouldCycle(child, parent);
	payer = &lineages[1].chain[lineages[1].len - 1];
	if (KalixUuidCompare(payer, parent) != 0 && KalixLockedRole(payer) < KALIX_ROLE_ADMIN)
		KalixRaiseCannotLinkUnderPayer(child, parent, payer);
	height = SubtreeHeight(child, kalix_max_depth);
	if (lineages[1].len + height > kalix_max_depth)
		KalixRaiseTooDeep(child, parent, lineages[1].len + height);

	values[0] = UUIDPGetDatum(child);
	values[1] = UUIDPGetDatum(parent);
	(void) KalixExecute(&link, values, NULL);
	/* Our membership in it, locked FOR SHARE, holds the parent (reference.c). */
	KalixTrustStoredReference(child, "parent_id", "kalix.accounts", parent);
	detail = LinkDetail(child, parent, payer);
	audited[0] = *child;
	audited[1] = *parent;
	audited[2] = *payer;
	KalixAuditAccounts("link_child", audited, KalixUuidCompare(payer, parent) != 0 ? 3 : 2, detail);
	KalixWriteEnd();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(kalix_unlink_child);

/* SQL: kalix.unlink_child(child) -- admin of the child or of its parent. */
Datum
kalix_unlink_child(PG_FUNCTION_ARGS)
{
	static KalixStatement unlink = {
		"UPDATE kalix.accounts a SET parent_id = NULL WHERE a.id OPERATOR(pg_catalog.=) $1",
		1, {UUIDOID}, NULL
	};
	pg_uuid_t	child;
	pg_uuid_t	old_parent;
	bool		has_parent;
	KalixAccount *cached;
	FreshLineage *lineage;
	Datum		values[1];
	StringInfoData detail;

	if (PG_ARGISNULL(0))
		KalixRaiseNullArgument("child");
	child = *PG_GETARG_UUID_P(0);
	KalixCacheBegin();
	cached = KalixLookupAccount(&child);
	/* Copied out: the role lookups may reset the cache. */
	has_parent = cached->has_parent;
	old_parent = cached->parent_id;
	if (KalixCachedRole(&child) < KALIX_ROLE_ADMIN &&
		(!has_parent || KalixCachedRole(&old_parent) < KALIX_ROLE_ADMIN))
		KalixRaiseCannotUnlink(&child);

	KalixWriteBegin();
	lineage = palloc(sizeof(FreshLineage));
	LockTrees(1, &child, lineage);
	/* Read again: the parent may have changed while we waited. */
	if (!lineage->self.has_parent)
		KalixRaiseNoParent(&child);
	old_parent = lineage->self.parent_id;
	if (KalixLockedRole(&child) < KALIX_ROLE_ADMIN && KalixLockedRole(&old_parent) < KALIX_ROLE_ADMIN)
		KalixRaiseCannotUnlink(&child);

	values[0] = UUIDPGetDatum(&child);
	(void) KalixExecute(&unlink, values, NULL);
	KalixJsonBegin(&detail);
	KalixJsonUuid(&detail, "parent_id", &old_parent);
	KalixJsonEnd(&detail);
	KalixAudit("unlink_child", &child, detail.data);
	KalixWriteEnd();
	PG_RETURN_VOID();
}
