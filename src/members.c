/*
 * members.c
 *		Who belongs to an account: add_member(), set_member_role(),
 *		remove_member() and copy_users().
 *
 * Each function checks the caller's role with the account row locked
 * (access.c), so all membership changes of one account take turns; a role
 * can only grant roles up to its own, only owners change or remove owners,
 * and the last owner stays.  Counting the owners locks their rows as well,
 * so a REPEATABLE READ transaction whose snapshot missed a concurrent owner
 * change fails with a serialization error instead of miscounting.  Every
 * change writes one audit row.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "kalix.h"
#include "access.h"
#include "errors.h"
#include "members.h"
#include "write.h"

/* The uuid argument n; raises naming it when it is NULL. */
static pg_uuid_t
UuidArgument(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		KalixRaiseNullArgument(name);
	return *PG_GETARG_UUID_P(n);
}

/* The kalix.account_role argument n; raises naming it when it is NULL. */
static KalixRole
RoleArgument(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		KalixRaiseNullArgument(name);
	return KalixRoleFromEnum(PG_GETARG_OID(n));
}

/* Raises unless a login with this id exists (the backend cache knows). */
static void
RequireLoginExists(const pg_uuid_t *login)
{
	KalixCacheBegin();
	if (!KalixLoginExists(login))
		KalixRaiseNoSuchLogin(login);
}

/* Locks a login's membership row and returns its role; raises when there is none. */
static KalixRole
LockMembership(const pg_uuid_t *account, const pg_uuid_t *login)
{
	static KalixStatement lock = {
		"SELECT m.role FROM kalix.memberships m "
		"WHERE m.account_id OPERATOR(pg_catalog.=) $1 "
		"AND m.login_id OPERATOR(pg_catalog.=) $2 FOR UPDATE",
		2, {UUIDOID, UUIDOID}, NULL
	};
	Datum		values[2] = {UUIDPGetDatum(account), UUIDPGetDatum(login)};
	bool		isnull;

	if (KalixExecute(&lock, values, NULL) > 0)
		return KalixRoleFromEnum(DatumGetObjectId(KalixResultDatum(0, 1, &isnull)));
	RequireLoginExists(login);
	KalixRaiseNotAMember(login, account);
}

/* Raises when the owner about to be demoted or removed is the account's last one. */
static void
KeepAnOwner(const pg_uuid_t *account, const pg_uuid_t *login)
{
	static KalixStatement count = {
		"SELECT pg_catalog.count(*) FROM (SELECT 1 FROM kalix.memberships m "
		"WHERE m.account_id OPERATOR(pg_catalog.=) $1 "
		"AND m.role OPERATOR(pg_catalog.=) 'owner'::kalix.account_role FOR UPDATE) o",
		1, {UUIDOID}, NULL
	};
	Datum		values[1] = {UUIDPGetDatum(account)};
	bool		isnull;

	(void) KalixExecute(&count, values, NULL);
	if (DatumGetInt64(KalixResultDatum(0, 1, &isnull)) <= 1)
		KalixRaiseLastOwner(login, account);
}

PG_FUNCTION_INFO_V1(kalix_add_member);

/* SQL: kalix.add_member(account, login, role) -- admin; roles up to one's own. */
Datum
kalix_add_member(PG_FUNCTION_ARGS)
{
	static KalixStatement insert = {
		"INSERT INTO kalix.memberships (account_id, login_id, role) "
		"VALUES ($1, $2, $3::kalix.account_role) "
		"ON CONFLICT (account_id, login_id) DO NOTHING",
		3, {UUIDOID, UUIDOID, TEXTOID}, NULL
	};
	static KalixStatement existing = {
		"SELECT m.role FROM kalix.memberships m "
		"WHERE m.account_id OPERATOR(pg_catalog.=) $1 "
		"AND m.login_id OPERATOR(pg_catalog.=) $2",
		2, {UUIDOID, UUIDOID}, NULL
	};
	pg_uuid_t	account = UuidArgument(fcinfo, 0, "account");
	pg_uuid_t	login = UuidArgument(fcinfo, 1, "login");
	KalixRole	role = RoleArgument(fcinfo, 2, "role");
	KalixRole	own;
	Datum		values[3];
	StringInfoData detail;

	KalixWriteBegin();
	own = KalixRequireRole(&account, KALIX_ROLE_ADMIN, "manage its members", KALIX_ACCESS_LOCKED);
	if (role > own)
		KalixRaiseCannotGrant(&account, role, own);
	RequireLoginExists(&login);
	values[0] = UUIDPGetDatum(&account);
	values[1] = UUIDPGetDatum(&login);
	values[2] = CStringGetTextDatum(KalixRoleName(role));
	if (KalixExecute(&insert, values, NULL) == 0)
	{
		bool		isnull;

		(void) KalixExecute(&existing, values, NULL);
		KalixRaiseAlreadyMember(&login, &account,
								KalixRoleFromEnum(DatumGetObjectId(KalixResultDatum(0, 1, &isnull))));
	}
	KalixJsonBegin(&detail);
	KalixJsonUuid(&detail, "login_id", &login);
	KalixJsonText(&detail, "role", KalixRoleName(role));
	KalixJsonEnd(&detail);
	KalixAudit("add_member", &account, detail.data);
	KalixWriteEnd();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(kalix_set_member_role);

/* SQL: kalix.set_member_role(account, login, role) -- admin; the last owner stays. */
Datum
kalix_set_member_role(PG_FUNCTION_ARGS)
{
	static KalixStatement update = {
		"UPDATE kalix.memberships m SET role = $3::kalix.account_role "
		"WHERE m.account_id OPERATOR(pg_catalog.=) $1 "
		"AND m.login_id OPERATOR(pg_catalog.=) $2",
		3, {UUIDOID, UUIDOID, TEXTOID}, NULL
	};
	pg_uuid_t	account = UuidArgument(fcinfo, 0, "account");
	pg_uuid_t	login = UuidArgument(fcinfo, 1, "login");
	KalixRole	role = RoleArgument(fcinfo, 2, "role");
	KalixRole	own;
	KalixRole	old_role;
	Datum		values[3];
	StringInfoData detail;

	KalixWriteBegin();
	own = KalixRequireRole(&account, KALIX_ROLE_ADMIN, "manage its members", KALIX_ACCESS_LOCKED);
	if (role > own)
		KalixRaiseCannotGrant(&account, role, own);
	old_role = LockMembership(&account, &login);
	if (old_role > own)
		KalixRaiseOwnerRoleChange(&login, &account);
	if (old_role == role)
	{
		KalixWriteEnd();
		PG_RETURN_VOID();
	}
	if (old_role == KALIX_ROLE_OWNER)
		KeepAnOwner(&account, &login);
	values[0] = UUIDPGetDatum(&account);
	values[1] = UUIDPGetDatum(&login);
	values[2] = CStringGetTextDatum(KalixRoleName(role));
	(void) KalixExecute(&update, values, NULL);
	KalixJsonBegin(&detail);
	KalixJsonUuid(&detail, "login_id", &login);
	KalixJsonText(&detail, "old_role", KalixRoleName(old_role));
	KalixJsonText(&detail, "new_role", KalixRoleName(role));
	KalixJsonEnd(&detail);
	KalixAudit("set_member_role", &account, detail.data);
	KalixWriteEnd();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(kalix_remove_member);

/* SQL: kalix.remove_member(account, login) -- admin; only owners remove owners. */
Datum
kalix_remove_member(PG_FUNCTION_ARGS)
{
	static KalixStatement delete = {
		"DELETE FROM kalix.memberships m "
		"WHERE m.account_id OPERATOR(pg_catalog.=) $1 "
		"AND m.login_id OPERATOR(pg_catalog.=) $2",
		2, {UUIDOID, UUIDOID}, NULL
	};
	pg_uuid_t	account = UuidArgument(fcinfo, 0, "account");
	pg_uuid_t	login = UuidArgument(fcinfo, 1, "login");
	KalixRole	own;
	KalixRole	old_role;
	Datum		values[2];
	StringInfoData detail;

	KalixWriteBegin();
	own = KalixRequireRole(&account, KALIX_ROLE_ADMIN, "manage its members", KALIX_ACCESS_LOCKED);
	old_role = LockMembership(&account, &login);
	if (old_role > own)
		KalixRaiseOwnerRemoval(&login, &account);
	if (old_role == KALIX_ROLE_OWNER)
		KeepAnOwner(&account, &login);
	values[0] = UUIDPGetDatum(&account);
	values[1] = UUIDPGetDatum(&login);
	(void) KalixExecute(&delete, values, NULL);
	KalixJsonBegin(&detail);
	KalixJsonUuid(&detail, "login_id", &login);
	KalixJsonText(&detail, "old_role", KalixRoleName(old_role));
	KalixJsonEnd(&detail);
	KalixAudit("remove_member", &account, detail.data);
	KalixWriteEnd();
	PG_RETURN_VOID();
}

/*
 * Adds the source's memberships missing in the target, roles capped at
 * `cap`, and returns how many were added; *detail becomes the audit detail.
 * The target's row lock serialises concurrent copies; ON CONFLICT leaves
 * every existing membership (also one a concurrent transaction just made)
 * alone.
 */
int
KalixCopyMembers(const pg_uuid_t *source, const pg_uuid_t *target, KalixRole cap,
				 char **detail)
{
	static KalixStatement copy = {
		"WITH inserted AS ("
		" INSERT INTO kalix.memberships AS m (account_id, login_id, role)"
		" SELECT $2, s.login_id, LEAST(s.role, $3::kalix.account_role)"
		" FROM kalix.memberships s WHERE s.account_id OPERATOR(pg_catalog.=) $1"
		" ON CONFLICT (account_id, login_id) DO NOTHING"
		" RETURNING m.login_id, m.role) "
		"SELECT pg_catalog.count(*)::pg_catalog.int4,"
		" pg_catalog.jsonb_build_object('source_id', $1, 'added', pg_catalog.count(*),"
		"  'members', pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
		"   'login_id', i.login_id, 'role', i.role) ORDER BY i.login_id))::pg_catalog.text "
		"FROM inserted i",
		3, {UUIDOID, UUIDOID, TEXTOID}, NULL
	};
	Datum		values[3];
	bool		isnull;
	int			added;

	values[0] = UUIDPGetDatum(source);
	values[1] = UUIDPGetDatum(target);
	values[2] = CStringGetTextDatum(KalixRoleName(cap));
	(void) KalixExecute(&copy, values, NULL);
	added = DatumGetInt32(KalixResultDatum(0, 1, &isnull));
	*detail = TextDatumGetCString(KalixResultDatum(0, 2, &isnull));
	return added;
}

PG_FUNCTION_INFO_V1(kalix_copy_users);

/* SQL: kalix.copy_users(source, target) -- admin of both; returns the number added. */
Datum
kalix_copy_users(PG_FUNCTION_ARGS)
{
	pg_uuid_t	source = UuidArgument(fcinfo, 0, "source");
	pg_uuid_t	target = UuidArgument(fcinfo, 1, "target");
	KalixRole	own;
	char	   *detail;
	int			added;

	if (memcmp(source.data, target.data, UUID_LEN) == 0)
		KalixRaiseCopyIntoItself(&source);
	KalixWriteBegin();
	(void) KalixRequireRole(&source, KALIX_ROLE_ADMIN, "copy its users", KALIX_ACCESS_CACHED);
	own = KalixRequireRole(&target, KALIX_ROLE_ADMIN, "copy users into it", KALIX_ACCESS_LOCKED);
	added = KalixCopyMembers(&source, &target, own, &detail);
	if (added > 0)
		KalixAudit("copy_users", &target, detail);
	KalixWriteEnd();
	PG_RETURN_INT32(added);
}
