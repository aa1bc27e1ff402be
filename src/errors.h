/*
 * errors.h
 *		The error catalogue: every condition a user of kalix_accounts can
 *		meet, one function each, with one message and one SQLSTATE.
 */
#ifndef KALIX_ERRORS_H
#define KALIX_ERRORS_H

#include "postgres.h"

#include "utils/uuid.h"

#include "kalix.h"

/* The name of a role as kalix.account_role spells it. */
extern const char *KalixRoleName(KalixRole role);

/* Arguments */
pg_noreturn extern void KalixRaiseNullArgument(const char *argument);

/* Identity and access */
pg_noreturn extern void KalixRaiseNoLogin(void);
pg_noreturn extern void KalixRaiseActAsNotAllowed(void);
pg_noreturn extern void KalixRaiseActAsOutsideTransaction(void);
pg_noreturn extern void KalixRaiseNotMember(const pg_uuid_t *account);
pg_noreturn extern void KalixRaiseArchived(const pg_uuid_t *account);
pg_noreturn extern void KalixRaiseRoleTooLow(const pg_uuid_t *account, KalixRole needed,
											 const char *doing);

/* Members */
pg_noreturn extern void KalixRaiseCannotGrant(const pg_uuid_t *account, KalixRole granted,
											  KalixRole own);
pg_noreturn extern void KalixRaiseNoSuchLogin(const pg_uuid_t *login);
pg_noreturn extern void KalixRaiseNotAMember(const pg_uuid_t *login, const pg_uuid_t *account);
pg_noreturn extern void KalixRaiseAlreadyMember(const pg_uuid_t *login, const pg_uuid_t *account,
												KalixRole role);
pg_noreturn extern void KalixRaiseOwnerRoleChange(const pg_uuid_t *login, const pg_uuid_t *account);
pg_noreturn extern void KalixRaiseOwnerRemoval(const pg_uuid_t *login, const pg_uuid_t *account);
pg_noreturn extern void KalixRaiseLastOwner(const pg_uuid_t *login, const pg_uuid_t *account);
pg_noreturn extern void KalixRaiseCopyIntoItself(const pg_uuid_t *account);

/* Accounts and names */
pg_noreturn extern void KalixRaiseNameEmpty(void);
pg_noreturn extern void KalixRaiseNameTooLong(const char *name, int length);
pg_noreturn extern void KalixRaiseNotJsonObject(const char *what, const char *type);
pg_noreturn extern void KalixRaiseInvalidEmail(const char *email);
pg_noreturn extern void KalixRaiseNoSuchRole(const char *role);
pg_noreturn extern void KalixRaiseEmailTaken(const char *email);
pg_noreturn extern void KalixRaiseRoleTaken(const char *role);
pg_noreturn extern void KalixRaiseNoCurrentAccount(void);
pg_noreturn extern void KalixRaiseCannotCreateFrom(const pg_uuid_t *account);
pg_noreturn extern void KalixRaiseCannotArchive(const pg_uuid_t *account);
pg_noreturn extern void KalixRaiseAlreadyArchived(const pg_uuid_t *account);
pg_noreturn extern void KalixRaiseHasChildren(const pg_uuid_t *account, int64 children);

/* The hierarchy */
pg_noreturn extern void KalixRaiseOwnParent(const pg_uuid_t *account);
pg_noreturn extern void KalixRaiseCannotLink(const pg_uuid_t *child, const pg_uuid_t *parent);
pg_noreturn extern void KalixRaiseCannotLinkUnderPayer(const pg_uuid_t *child, const pg_uuid_t *parent,
													   const pg_uuid_t *payer);
pg_noreturn extern void KalixRaiseHasParent(const pg_uuid_t *child, const pg_uuid_t *parent);
pg_noreturn extern void KalixRaiseWouldCycle(const pg_uuid_t *child, const pg_uuid_t *parent);
pg_noreturn extern void KalixRaiseTooDeep(const pg_uuid_t *child, const pg_uuid_t *parent, int length);
pg_noreturn extern void KalixRaiseChildTooDeep(const pg_uuid_t *parent, int length);
pg_noreturn extern void KalixRaiseCannotUnlink(const pg_uuid_t *child);
pg_noreturn extern void KalixRaiseNoParent(const pg_uuid_t *child);
pg_noreturn extern void KalixRaiseParentCycle(const pg_uuid_t *account);
pg_noreturn extern void KalixRaiseLineageTooLong(const pg_uuid_t *account);

/* NPIs */
pg_noreturn extern void KalixRaiseNpiTaken(const char *npi, const pg_uuid_t *account);
pg_noreturn extern void KalixRaiseNpiUnknown(const char *npi, const pg_uuid_t *account);

/* The team lifecycle: invitations, login updates, unarchiving */
pg_noreturn extern void KalixRaiseInvalidInvitation(void);
pg_noreturn extern void KalixRaiseNoSuchInvitation(const pg_uuid_t *invitation);
pg_noreturn extern void KalixRaiseInvitationClosed(const pg_uuid_t *invitation, bool accepted);
pg_noreturn extern void KalixRaiseBadValidity(const char *valid_for);
pg_noreturn extern void KalixRaiseCannotUpdateLogin(const pg_uuid_t *login);
pg_noreturn extern void KalixRaiseCannotUnarchive(const pg_uuid_t *account);
pg_noreturn extern void KalixRaiseNotArchived(const pg_uuid_t *account);
pg_noreturn extern void KalixRaiseParentArchived(const pg_uuid_t *account, const pg_uuid_t *parent);

/* Citus */
pg_noreturn extern void KalixRaiseNoLocalCopy(const char *table);
pg_noreturn extern void KalixRaiseNoCitus(void);
pg_noreturn extern void KalixRaiseNotCoordinator(void);
pg_noreturn extern void KalixRaiseNotIsolated(const char *table);
pg_noreturn extern void KalixRaiseDistributePartition(const char *table);
pg_noreturn extern void KalixRaiseAlreadyDistributed(const char *table);

#endif							/* KALIX_ERRORS_H */
