/*
 * errors.c
 *		The error catalogue of kalix_accounts.
 *
 * Every condition a caller can meet is raised by one function here, so each
 * has exactly one message, one SQLSTATE, and one detail and hint; the
 * regression file sql/errors.sql raises each of them once.  The choices
 * that settle what 1.0 did in two ways:
 *   - "account is archived" is insufficient_privilege everywhere, as the
 *     read path has always raised it: an archived account is one the login
 *     may no longer use (SPEC section 3), whichever function asks;
 *   - "no current login" has one wording, with or without an account in
 *     sight: the session acts for nobody, so nothing is revealed by naming
 *     the account it asked for.
 * Messages quote the offending value; details are full sentences; hints say
 * what to do.
 */
#include "postgres.h"

#include "kalix.h"
#include "errors.h"

/* The name of a role as kalix.account_role spells it. */
const char *
KalixRoleName(KalixRole role)
{
	static const char *const names[] = {"member", "admin", "owner"};

	if (role < KALIX_ROLE_MEMBER || role > KALIX_ROLE_OWNER)
		elog(ERROR, "kalix_accounts: no role %d", (int) role);
	return names[role];
}

/* A required argument is NULL. */
void
KalixRaiseNullArgument(const char *argument)
{
	ereport(ERROR,
			(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			 errmsg("%s must not be null", argument)));
}

/* The session acts for no login. */
void
KalixRaiseNoLogin(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("no current login"),
			 errhint("Set kalix.current_login, or create a login whose db_role is the current role.")));
}

/* The current login is not a member of the account (or it does not exist). */
void
KalixRaiseNotMember(const pg_uuid_t *account)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for account \"%s\"", KalixUuidToCString(account)),
			 errdetail("The current login is not a member of this account.")));
}

/* The account is archived, so it can no longer be worked in or changed. */
void
KalixRaiseArchived(const pg_uuid_t *account)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("account \"%s\" is archived", KalixUuidToCString(account)),
			 errdetail("An archived account can no longer be worked in.")));
}

/* The current login's role in the account is below what the action needs. */
void
KalixRaiseRoleTooLow(const pg_uuid_t *account, KalixRole needed, const char *doing)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for account \"%s\"", KalixUuidToCString(account)),
			 needed == KALIX_ROLE_OWNER ?
			 errdetail("Only an owner of the account may %s.", doing) :
			 errdetail("Only an admin or owner of the account may %s.", doing)));
}

/* A role above the granter's own was to be granted. */
void
KalixRaiseCannotGrant(const pg_uuid_t *account, KalixRole granted, KalixRole own)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to grant role \"%s\" in account \"%s\"",
					KalixRoleName(granted), KalixUuidToCString(account)),
			 errdetail("The current login is an %s of this account and can grant roles up to %s.",
					   KalixRoleName(own), KalixRoleName(own))));
}

/* No login has this id. */
void
KalixRaiseNoSuchLogin(const pg_uuid_t *login)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("login \"%s\" does not exist", KalixUuidToCString(login))));
}

/* The login exists but is not a member of the account. */
void
KalixRaiseNotAMember(const pg_uuid_t *login, const pg_uuid_t *account)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("login \"%s\" is not a member of account \"%s\"",
					KalixUuidToCString(login), KalixUuidToCString(account)),
			 errhint("Add it with kalix.add_member().")));
}

/* The login is a member of the account already. */
void
KalixRaiseAlreadyMember(const pg_uuid_t *login, const pg_uuid_t *account, KalixRole role)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNIQUE_VIOLATION),
			 errmsg("login \"%s\" is already a member of account \"%s\"",
					KalixUuidToCString(login), KalixUuidToCString(account)),
			 errdetail("Its role there is %s.", KalixRoleName(role)),
			 errhint("Change its role with kalix.set_member_role().")));
}

/* An admin tried to change an owner's role. */
void
KalixRaiseOwnerRoleChange(const pg_uuid_t *login, const pg_uuid_t *account)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to change the role of login \"%s\" in account \"%s\"",
					KalixUuidToCString(login), KalixUuidToCString(account)),
			 errdetail("The login is an owner; only an owner may change the role of an owner.")));
}

/* An admin tried to remove an owner. */
void
KalixRaiseOwnerRemoval(const pg_uuid_t *login, const pg_uuid_t *account)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to remove login \"%s\" from account \"%s\"",
					KalixUuidToCString(login), KalixUuidToCString(account)),
			 errdetail("The login is an owner; only an owner may remove an owner.")));
}

/* The account's last owner was to be demoted or removed. */
void
KalixRaiseLastOwner(const pg_uuid_t *login, const pg_uuid_t *account)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("login \"%s\" is the last owner of account \"%s\"",
					KalixUuidToCString(login), KalixUuidToCString(account)),
			 errdetail("An account always keeps at least one owner."),
			 errhint("Make another member an owner first.")));
}

/* copy_users was given the same account twice. */
void
KalixRaiseCopyIntoItself(const pg_uuid_t *account)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("cannot copy the users of account \"%s\" into itself",
					KalixUuidToCString(account))));
}
