/*
 * reference.h
 *		The write path's word to the reference triggers (reference.c): keys
 *		its next statement stores, and account rows it stored, that need no
 *		reference check.
 */
#ifndef KALIX_REFERENCE_H
#define KALIX_REFERENCE_H

#include "postgres.h"

#include "utils/uuid.h"

/* Most keys one statement is trusted with. */
#define KALIX_TRUSTED_MAX 2

/* Most stored rows one transaction is trusted with (KalixTrustStoredReference). */
#define KALIX_STORED_MAX 8

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
extern void KalixTrustStoredReference(const pg_uuid_t *row, const char *column,
									  const char *table, const pg_uuid_t *key);

#endif							/* KALIX_REFERENCE_H */
