/*
 * access.c
 *		The access rule of every function that acts in an account: the
 *		current login must be a member of an existing, unarchived account,
 *		with at least the role the action needs.
 *
 * The cached form answers from the backend cache (cache.c), as the policies
 * and the read path do.  The locked form is what a change uses: it locks the
 * account row FOR NO KEY UPDATE and only then reads the caller's membership,
 * FOR SHARE, in a new statement.  The account row lock serialises all
 * membership changes of one account, so under READ COMMITTED the membership
 * read after it sees what a concurrent change committed (two owners demoting
 * each other run one after the other, and the second sees the first's
 * result), and under REPEATABLE READ a row changed after our snapshot makes
 * the lock fail with a serialization error instead of acting on a stale
 * role.  NO KEY UPDATE rather than UPDATE keeps foreign-key checks of rows
 * referencing the account from waiting; account row first and membership
 * second is the order every write function follows, so they never deadlock.
 * The locked form runs inside KalixWriteBegin/KalixWriteEnd.
 */
#include "postgres.h"

#include "catalog/pg_type.h"

#include "kalix.h"
#include "access.h"
#include "errors.h"
#include "write.h"

/* The current login of the statement; raises when there is none. */
void
KalixRequireLogin(pg_uuid_t *login)
{
	if (!KalixStatementLogin(login))
		KalixRaiseNoLogin();
}

/* The KalixRole of a kalix.account_role value (its pg_enum OID). */
KalixRole
KalixRoleFromEnum(Oid value)
{
	KalixCacheBegin();
	for (KalixRole role = KALIX_ROLE_MEMBER; role <= KALIX_ROLE_OWNER; role++)
		if (KalixRoleEnumValue(role) == value)
			return role;
	elog(ERROR, "kalix_accounts: %u is no value of kalix.account_role", value);
}

/*
 * Locks the account row FOR NO KEY UPDATE; false when there is no such
 * account, else *archived says whether it is archived.
 */
bool
KalixLockAccount(const pg_uuid_t *account, bool *archived)
{
	static KalixStatement lock = {
		"SELECT a.archived_at IS NOT NULL FROM kalix.accounts a "
		"WHERE a.id OPERATOR(pg_catalog.=) $1 FOR NO KEY UPDATE",
		1, {UUIDOID}, NULL
	};
	Datum		values[1] = {UUIDPGetDatum(account)};
	bool		isnull;

	if (KalixExecute(&lock, values, NULL) == 0)
		return false;
	*archived = DatumGetBool(KalixResultDatum(0, 1, &isnull));
	return true;
}

/*
 * The current login's role in the account read from the table, its
 * membership row locked FOR SHARE; KALIX_ROLE_NONE when not a member.  A new
 * statement, so under READ COMMITTED it sees what committed before the locks
 * its caller took.
 */
KalixRole
KalixLockedRole(const pg_uuid_t *account)
{
	static KalixStatement lock = {
		"SELECT m.role FROM kalix.memberships m "
		"WHERE m.account_id OPERATOR(pg_catalog.=) $1 "
		"AND m.login_id OPERATOR(pg_catalog.=) $2 FOR SHARE",
		2, {UUIDOID, UUIDOID}, NULL
	};
	pg_uuid_t	login;
	Datum		values[2];
	bool		isnull;

	KalixRequireLogin(&login);
	values[0] = UUIDPGetDatum(account);
	values[1] = UUIDPGetDatum(&login);
	if (KalixExecute(&lock, values, NULL) == 0)
		return KALIX_ROLE_NONE;
	return KalixRoleFromEnum(DatumGetObjectId(KalixResultDatum(0, 1, &isnull)));
}

/*
 * The current login's role in the account when it is at least `needed`;
 * otherwise raises: not a member, archived, or a role too low to `doing`
 * (a phrase completing "Only an admin or owner of the account may ...").
 */
KalixRole
KalixRequireRole(const pg_uuid_t *account, KalixRole needed, const char *doing,
				 KalixAccessMode mode)
{
	pg_uuid_t	login;
	KalixRole	role;

	KalixRequireLogin(&login);
	if (mode == KALIX_ACCESS_LOCKED)
	{
		bool		archived = false;

		role = KalixLockAccount(account, &archived) ? KalixLockedRole(account) : KALIX_ROLE_NONE;
		if (role == KALIX_ROLE_NONE)
			KalixRaiseNotMember(account);
		if (archived)
			KalixRaiseArchived(account);
	}
	else
		role = KalixCheckAccess(account, &login, true);	/* the read path's rule */
	if (role < needed)
		KalixRaiseRoleTooLow(account, needed, doing);
	return role;
}

/*
 * The current login's role in an account (archived or not) from the backend
 * cache; KALIX_ROLE_NONE when not a member.  The quick first check of the
 * hierarchy functions, which check again under their locks.
 */
KalixRole
KalixCachedRole(const pg_uuid_t *account)
{
	pg_uuid_t	login;
	KalixAccount *entry;

	KalixRequireLogin(&login);
	KalixCacheBegin();
	entry = KalixLookupAccount(account);
	if (!entry->exists)
		return KALIX_ROLE_NONE;
	return KalixMemberRole(account, &login);
}
