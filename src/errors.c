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

/* The current role may not name the login it acts for (kalix.act_as). */
void
KalixRaiseActAsNotAllowed(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to act as a login"),
			 errdetail("kalix.act_as is allowed to superusers and to roles that hold SET on kalix.current_login."),
			 errhint("Call it as the trusted application role, after GRANT SET ON PARAMETER kalix.current_login TO that role.")));
}

/* kalix.act_as outside a transaction block. */
void
KalixRaiseActAsOutsideTransaction(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_NO_ACTIVE_SQL_TRANSACTION),
			 errmsg("kalix.act_as can only be used in transaction blocks"),
			 errdetail("Outside a transaction block the identity would end with this statement."),
			 errhint("Run BEGIN first, then call kalix.act_as in the request's transaction.")));
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

/* An account name is NULL, empty or only white space. */
void
KalixRaiseNameEmpty(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("account name must not be empty")));
}

/* An account name is longer than KALIX_NAME_MAX characters; name is its quoted start. */
void
KalixRaiseNameTooLong(const char *name, int length)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("account name \"%s...\" is too long", name),
			 errdetail("An account name has at most %d characters; this one has %d.",
					   KALIX_NAME_MAX, length)));
}

/* Settings or branding is a JSON value other than an object. */
void
KalixRaiseNotJsonObject(const char *what, const char *type)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("account %s must be a JSON object, not %s", what, type),
			 errdetail("Settings and branding are JSON objects of keys and values.")));
}

/* An email address without exactly one "@" between non-blank text. */
void
KalixRaiseInvalidEmail(const char *email)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid email address \"%s\"", email),
			 errdetail("An email address has one \"@\" with text on both sides and no blanks.")));
}

/* create_login named a database role that does not exist. */
void
KalixRaiseNoSuchRole(const char *role)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("role \"%s\" does not exist", role)));
}

/* Another login has this email, in any case. */
void
KalixRaiseEmailTaken(const char *email)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNIQUE_VIOLATION),
			 errmsg("a login with email \"%s\" already exists", email),
			 errdetail("Emails are unique regardless of case.")));
}

/* Another login has this database role. */
void
KalixRaiseRoleTaken(const char *role)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNIQUE_VIOLATION),
			 errmsg("role \"%s\" already has a login", role),
			 errdetail("A database role is the login of at most one person.")));
}

/* create_account(child or copy_users) without a current account. */
void
KalixRaiseNoCurrentAccount(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("no current account"),
			 errdetail("A child account and copied users come from the current account."),
			 errhint("Switch to that account first with kalix.switch_account().")));
}

/* create_account(child or copy_users) by a member below admin. */
void
KalixRaiseCannotCreateFrom(const pg_uuid_t *account)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to create a child of or copy users from account \"%s\"",
					KalixUuidToCString(account)),
			 errdetail("Only an admin or owner of the current account may do that.")));
}

/* archive_account by someone who is not an owner. */
void
KalixRaiseCannotArchive(const pg_uuid_t *account)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to archive account \"%s\"", KalixUuidToCString(account)),
			 errdetail("Only an owner of the account may archive it.")));
}

/* archive_account of an archived account. */
void
KalixRaiseAlreadyArchived(const pg_uuid_t *account)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("account \"%s\" is already archived", KalixUuidToCString(account))));
}

/* archive_account of an account with unarchived children. */
void
KalixRaiseHasChildren(const pg_uuid_t *account, int64 children)
{
	ereport(ERROR,
			(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
			 errmsg("account \"%s\" has unarchived child accounts", KalixUuidToCString(account)),
			 errdetail("It has " INT64_FORMAT " unarchived child account(s).", children),
			 errhint("Archive or unlink its child accounts first.")));
}

/* link_child of an account under itself. */
void
KalixRaiseOwnParent(const pg_uuid_t *account)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("account \"%s\" cannot be its own parent", KalixUuidToCString(account))));
}

/* link_child by someone who is not an admin of both accounts. */
void
KalixRaiseCannotLink(const pg_uuid_t *child, const pg_uuid_t *parent)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to link account \"%s\" under account \"%s\"",
					KalixUuidToCString(child), KalixUuidToCString(parent)),
			 errdetail("Only an admin or owner of both accounts may link them.")));
}

/* link_child under a non-root parent by someone who is not an admin of its payer. */
void
KalixRaiseCannotLinkUnderPayer(const pg_uuid_t *child, const pg_uuid_t *parent,
							   const pg_uuid_t *payer)
{
	char	   *child_text = KalixUuidToCString(child);
	char	   *parent_text = KalixUuidToCString(parent);

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to link account \"%s\" under account \"%s\"",
					child_text, parent_text),
			 errdetail("Account %s is billed to account %s; only an admin or owner of that payer may link accounts into its tree.",
					   parent_text, KalixUuidToCString(payer))));
}

/* link_child of an account that has a parent. */
void
KalixRaiseHasParent(const pg_uuid_t *child, const pg_uuid_t *parent)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("account \"%s\" already has a parent", KalixUuidToCString(child)),
			 errdetail("Its parent is account %s.", KalixUuidToCString(parent)),
			 errhint("Call kalix.unlink_child() first to move it.")));
}

/* link_child of an account under one of its descendants. */
void
KalixRaiseWouldCycle(const pg_uuid_t *child, const pg_uuid_t *parent)
{
	char	   *child_text = KalixUuidToCString(child);
	char	   *parent_text = KalixUuidToCString(parent);

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("linking account \"%s\" under account \"%s\" would create a cycle",
					child_text, parent_text),
			 errdetail("Account %s is an ancestor of account %s.", child_text, parent_text)));
}

/* link_child whose result would be a lineage longer than kalix.max_depth. */
void
KalixRaiseTooDeep(const pg_uuid_t *child, const pg_uuid_t *parent, int length)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("linking account \"%s\" under account \"%s\" would make a lineage of %d accounts",
					KalixUuidToCString(child), KalixUuidToCString(parent), length),
			 errdetail("kalix.max_depth allows at most %d accounts in a lineage.", kalix_max_depth)));
}

/* create_account(child) whose new account would make a lineage longer than kalix.max_depth. */
void
KalixRaiseChildTooDeep(const pg_uuid_t *parent, int length)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("a child of account \"%s\" would make a lineage of %d accounts",
					KalixUuidToCString(parent), length),
			 errdetail("kalix.max_depth allows at most %d accounts in a lineage.", kalix_max_depth)));
}

/* unlink_child by someone who administers neither the child nor its parent. */
void
KalixRaiseCannotUnlink(const pg_uuid_t *child)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to unlink account \"%s\"", KalixUuidToCString(child)),
			 errdetail("Only an admin or owner of the account or of its parent may unlink it.")));
}

/* unlink_child of an account without a parent. */
void
KalixRaiseNoParent(const pg_uuid_t *child)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("account \"%s\" has no parent", KalixUuidToCString(child)),
			 errdetail("It is already independent.")));
}

/* Following parent_id from the account comes back to an account already passed. */
void
KalixRaiseParentCycle(const pg_uuid_t *account)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("account \"%s\" is in or below a cycle of parent links",
					KalixUuidToCString(account)),
			 errdetail("Following parent_id in kalix.accounts leads back to an account already passed."),
			 errhint("kalix.accounts was changed without the kalix functions; repair parent_id by hand.")));
}

/* The account's lineage is longer than KALIX_LINEAGE_LIMIT. */
void
KalixRaiseLineageTooLong(const pg_uuid_t *account)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("lineage of account \"%s\" is longer than %d accounts",
					KalixUuidToCString(account), KALIX_LINEAGE_LIMIT),
			 errhint("kalix.accounts was changed without the kalix functions; repair parent_id by hand.")));
}

/* add_npi of an NPI the account has already. */
void
KalixRaiseNpiTaken(const char *npi, const pg_uuid_t *account)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNIQUE_VIOLATION),
			 errmsg("NPI \"%s\" is already registered for account \"%s\"",
					npi, KalixUuidToCString(account)),
			 errhint("To change its label or primary flag, remove it with kalix.remove_npi() and add it again.")));
}

/* remove_npi of an NPI the account does not have. */
void
KalixRaiseNpiUnknown(const char *npi, const pg_uuid_t *account)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("NPI \"%s\" is not registered for account \"%s\"",
					npi, KalixUuidToCString(account))));
}

/*
 * accept_invitation() found no invitation it may use.  Unknown, accepted,
 * revoked, expired and someone else's tokens all end here, so the error
 * tells a token's holder nothing about it, and the message never quotes it.
 */
void
KalixRaiseInvalidInvitation(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
			 errmsg("invitation token is not valid"),
			 errdetail("The token is unknown, was used or revoked, has expired, or invites another email address."),
			 errhint("Ask an admin of the account for a new invitation to the email address of the current login.")));
}

/* No invitation has this id, or the current login is no member of its account. */
void
KalixRaiseNoSuchInvitation(const pg_uuid_t *invitation)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("invitation \"%s\" does not exist", KalixUuidToCString(invitation))));
}

/* revoke_invitation() of an invitation that was accepted or revoked already. */
void
KalixRaiseInvitationClosed(const pg_uuid_t *invitation, bool accepted)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 accepted ?
			 errmsg("invitation \"%s\" was already accepted", KalixUuidToCString(invitation)) :
			 errmsg("invitation \"%s\" was already revoked", KalixUuidToCString(invitation)),
			 accepted ?
			 errhint("Remove the member with kalix.remove_member() instead.") : 0));
}

/* invite() was given a validity that is not a positive, finite interval. */
void
KalixRaiseBadValidity(const char *valid_for)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invitation validity \"%s\" is not a positive, finite interval", valid_for),
			 errdetail("An invitation must expire some time after it is made.")));
}

/* update_login() by a caller that is neither the login nor a trusted application role. */
void
KalixRaiseCannotUpdateLogin(const pg_uuid_t *login)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to update login \"%s\"", KalixUuidToCString(login)),
			 errdetail("Only the login itself or a role that may set kalix.current_login may change a login."),
			 errhint("Grant the application's role SET on kalix.current_login, or act as that login.")));
}

/* unarchive_account() by a caller that is not an owner of the account. */
void
KalixRaiseCannotUnarchive(const pg_uuid_t *account)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to unarchive account \"%s\"", KalixUuidToCString(account)),
			 errdetail("Only an owner of the account may unarchive it.")));
}

/* unarchive_account() of an account that is not archived. */
void
KalixRaiseNotArchived(const pg_uuid_t *account)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("account \"%s\" is not archived", KalixUuidToCString(account))));
}

/* unarchive_account() of an account whose parent is archived. */
void
KalixRaiseParentArchived(const pg_uuid_t *account, const pg_uuid_t *parent)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("the parent of account \"%s\" is archived", KalixUuidToCString(account)),
			 errdetail("Its parent is account %s; an unarchived account never has an archived parent.",
					   KalixUuidToCString(parent)),
			 errhint("Unarchive the parent first.")));
}

/* A kalix reference table of which this Citus node holds no copy. */
void
KalixRaiseNoLocalCopy(const char *table)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("kalix table \"%s\" has no local copy on this node", table),
			 errdetail("It is a Citus reference table, and this node holds none of its placements."),
			 errhint("Add the node with citus_add_node, or run replicate_reference_tables().")));
}

/* distribute_table() in a database without Citus. */
void
KalixRaiseNoCitus(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("Citus is not installed in this database"),
			 errhint("Run CREATE EXTENSION citus first, with citus in shared_preload_libraries.")));
}

/* distribute_table() on a Citus worker. */
void
KalixRaiseNotCoordinator(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("kalix.distribute_table() must run on the Citus coordinator"),
			 errdetail("kalix.isolated_tables, which it reads and writes, lives on the coordinator alone.")));
}

/* distribute_table() of a table enable_isolation has not isolated. */
void
KalixRaiseNotIsolated(const char *table)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("table \"%s\" is not isolated", table),
			 errhint("Call kalix.enable_isolation('%s') first.", table)));
}

/* distribute_table() of a partition. */
void
KalixRaiseDistributePartition(const char *table)
{
	ereport(ERROR,
			(errcode(ERRCODE_WRONG_OBJECT_TYPE),
			 errmsg("table \"%s\" is a partition", table),
			 errdetail("Citus distributes a partitioned table with its partitions."),
			 errhint("Distribute its partitioned table.")));
}

/* distribute_table() of a table Citus already keeps in shards. */
void
KalixRaiseAlreadyDistributed(const char *table)
{
	ereport(ERROR,
			(errcode(ERRCODE_DUPLICATE_OBJECT),
			 errmsg("table \"%s\" is already a Citus table", table),
			 errhint("Call kalix.lint() to check its policies on every placement.")));
}
