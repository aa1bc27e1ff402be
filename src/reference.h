/*
 * reference.h
 *		The write path's word to the reference triggers (reference.c): keys
 *		its next statement stores, or that its (sub)transaction holds, that
 *		need no reference check.
 */
#ifndef KALIX_REFERENCE_H
#define KALIX_REFERENCE_H

#include "postgres.h"

#include "utils/uuid.h"

/* Most keys one statement is trusted with. */
#define KALIX_TRUSTED_MAX 2

/* Most keys one transaction is trusted with for the rest of its rows. */
#define KALIX_HELD_MAX 8

/*
 * A key of a referenced table ("kalix.accounts", "kalix.logins": as the
 * reference triggers name it) that the caller vouches for: its row is in
 * the table and cannot leave it before this transaction ends.
 */
typedef struct KalixTrustedKey
{
	const char *table;
	pg_uuid_t	key;
} KalixTrustedKey;

extern void KalixTrustKeys(const KalixTrustedKey *keys, int n);
extern void KalixTrustHeldKey(const char *table, const pg_uuid_t *key);

#endif							/* KALIX_REFERENCE_H */
