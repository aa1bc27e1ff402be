/*
 * accounts.h
 *		The email rules of logins, shared by create_login() (accounts.c),
 *		update_login() (logins.c) and invite() (invitations.c); the locks
 *		and checks archive_account() and unarchive_account() (unarchive.c)
 *		share.
 */
#ifndef KALIX_ACCOUNTS_H
#define KALIX_ACCOUNTS_H

#include "postgres.h"

#include "utils/uuid.h"

extern char *KalixCleanEmail(const char *email);
extern void KalixRequireEmailFree(const char *email, const pg_uuid_t *self);
extern void KalixBeginArchiveChange(const pg_uuid_t *account, bool archiving);

#endif							/* KALIX_ACCOUNTS_H */
