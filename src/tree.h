/*
 * tree.h
 *		The locks of hierarchy changes, for create_account(child) and
 *		archive_account() in accounts.c.
 */
#ifndef KALIX_TREE_H
#define KALIX_TREE_H

#include "postgres.h"

#include "utils/uuid.h"

extern void KalixLockTreeOf(const pg_uuid_t *account);
extern void KalixLockForNewChild(const pg_uuid_t *parent);

#endif							/* KALIX_TREE_H */
