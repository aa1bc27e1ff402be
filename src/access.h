/*
 * access.h
 *		May the current login do this in that account?  The one answer, in
 *		a cached form for reads and a locked form for writes.
 */
#ifndef KALIX_ACCESS_H
#define KALIX_ACCESS_H

#include "postgres.h"

#include "utils/uuid.h"

#include "kalix.h"

/* How the answer is read. */
typedef enum KalixAccessMode
{
	KALIX_ACCESS_CACHED,		/* from the backend cache, no lock */
	KALIX_ACCESS_LOCKED			/* from the tables, account row locked first */
} KalixAccessMode;

extern void KalixRequireLogin(pg_uuid_t *login);
extern KalixRole KalixRequireRole(const pg_uuid_t *account, KalixRole needed,
								  const char *doing, KalixAccessMode mode);
extern KalixRole KalixRoleFromEnum(Oid value);
extern bool KalixLockAccount(const pg_uuid_t *account, bool *archived);
extern KalixRole KalixLockedRole(const pg_uuid_t *account);
extern KalixRole KalixCachedRole(const pg_uuid_t *account);

#endif							/* KALIX_ACCESS_H */
