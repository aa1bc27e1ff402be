/*
 * members.h
 *		Copying memberships, shared by copy_users() and create_account().
 */
#ifndef KALIX_MEMBERS_H
#define KALIX_MEMBERS_H

#include "postgres.h"

#include "utils/jsonb.h"
#include "utils/uuid.h"

#include "kalix.h"

extern int	KalixCopyMembers(const pg_uuid_t *source, const pg_uuid_t *target, KalixRole cap,
							 Jsonb **detail);

#endif							/* KALIX_MEMBERS_H */
