/*
 * hierarchy.h
 *		The one lineage walker, shared by the backend cache (hierarchy.c)
 *		and the write path under its locks (tree.c).
 */
#ifndef KALIX_HIERARCHY_H
#define KALIX_HIERARCHY_H

#include "postgres.h"

#include "utils/uuid.h"

#include "kalix.h"

/* Why a walk stopped early. */
typedef enum KalixWalkResult
{
	KALIX_WALK_OK,
	KALIX_WALK_CYCLE,
	KALIX_WALK_TOO_LONG
} KalixWalkResult;

/*
 * Where a walk reads an account: the entry stays valid until the next call
 * (exists false when there is no such account).
 */
typedef const KalixAccount *(*KalixAccountLookup) (const pg_uuid_t *id);

extern KalixWalkResult KalixWalkLineage(const pg_uuid_t *start, KalixAccountLookup lookup,
										pg_uuid_t *chain, int *len, KalixAccount *first);
extern void KalixCachedLineage(const pg_uuid_t *account, pg_uuid_t *chain, int *len);
pg_noreturn extern void KalixReportCorruptWalk(KalixWalkResult result, const pg_uuid_t *account);

#endif							/* KALIX_HIERARCHY_H */
