/*
 * accounts.c
 *		Logins and accounts: create_login(), my_accounts(), create_account(),
 *		update_account() and archive_account().
 *
 * The name rules live here once: a name is trimmed of white space, and an
 * empty one or one over KALIX_NAME_MAX characters is refused; the CHECK on
 * kalix.accounts calls the same rule (account_name_ok) for direct writes.
 * create_account(child) and archive_account() change the shape of the
 * hierarchy and take its locks from tree.c; KalixBeginArchiveChange() takes
 * them, and makes the checks under them, for archive_account() and
 * unarchive_account() (unarchive.c) alike.
 */
#include "postgres.h"

#include <string.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "kalix.h"
#include "access.h"
#include "accounts.h"
#include "errors.h"
#include "members.h"
#include "reference.h"
#include "tree.h"
#include "write.h"

/* A copy of a string without the white space at either end. */
static char *
Trim(const char *value)
{
	const char *end = value + strlen(value);

	while (*value && strchr(KALIX_BLANKS, *value))
		value++;
	while (end > value && strchr(KALIX_BLANKS, end[-1]))
		end--;
	return pnstrdup(value, end - value);
}

/*
 * Whether a trimmed name has an acceptable length, 1 to KALIX_NAME_MAX
 * characters; *length is its length in characters.
 */
static bool
NameFits(const char *trimmed, int *length)
{
	*length = pg_mbstrlen(trimmed);
	return *length >= 1 && *length <= KALIX_NAME_MAX;
}

/* An account name, trimmed; raises when it is NULL, empty or too long. */
static char *
AccountName(FunctionCallInfo fcinfo, int n)
{
	char	   *name;
	int			length;

	if (PG_ARGISNULL(n))
		KalixRaiseNameEmpty();
	name = Trim(text_to_cstring(PG_GETARG_TEXT_PP(n)));
	if (NameFits(name, &length))
		return name;
	if (length == 0)
		KalixRaiseNameEmpty();
	KalixRaiseNameTooLong(pnstrdup(name, pg_mbcharcliplen(name, strlen(name), KALIX_NAME_QUOTED)),
						  length);
}

PG_FUNCTION_INFO_V1(kalix_account_name_ok);

/*
 * SQL: kalix.account_name_ok(name) -- the CHECK of kalix.accounts.name: the
 * name as AccountName keeps it, trimmed and 1 to KALIX_NAME_MAX characters.
 * A function rather than the expression it replaces: the executor parses a
 * table's CHECK expressions at every INSERT and UPDATE (the root lock of
 * tree.c is an UPDATE), and this one call costs about a third of what the
 * expression's five calls and three operators did.
 */
Datum
kalix_account_name_ok(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int			length;

	PG_RETURN_BOOL(strcmp(Trim(name), name) == 0 && NameFits(name, &length));
}

/*
 * An email as a login keeps it (create_login, update_login, invite): trimmed
 * of white space; raises unless it has one "@" with non-blank text on both
 * sides.
 */
char *
KalixCleanEmail(const char *email)
{
	char	   *clean = Trim(email);
	const char *at = strchr(clean, '@');

	if (at == NULL || at == clean || at[1] == '\0' || strchr(at + 1, '@') != NULL)
		KalixRaiseInvalidEmail(email);
	for (const char *c = clean; *c; c++)
		if (strchr(KALIX_BLANKS, *c))
			KalixRaiseInvalidEmail(email);
	return clean;
}

/* Raises when a login other than `self` (NULL: any) has the email, in any case. */
void
KalixRequireEmailFree(const char *email, const pg_uuid_t *self)
{
	static KalixStatement taken = {
		"SELECT 1 FROM kalix.logins l "
		"WHERE pg_catalog.lower(l.email) OPERATOR(pg_catalog.=) pg_catalog.lower($1) "
		"AND ($2 IS NULL OR l.id OPERATOR(pg_catalog.<>) $2)",
		2, {TEXTOID, UUIDOID}, NULL
	};
	Datum		values[2] = {CStringGetTextDatum(email), self ? UUIDPGetDatum(self) : (Datum) 0};
	bool		nulls[2] = {false, self == NULL};

	if (KalixExecute(&taken, values, nulls) > 0)
		KalixRaiseEmailTaken(email);
}

PG_FUNCTION_INFO_V1(kalix_create_login);

/* SQL: kalix.create_login(email, display_name, db_role) -- the new login's id. */
Datum
kalix_create_login(PG_FUNCTION_ARGS)
{
	static KalixStatement role_taken = {
		"SELECT 1 FROM kalix.logins l WHERE l.db_role OPERATOR(pg_catalog.=) $1",
		1, {OIDOID}, NULL
	};
	/* db_role is bound by the role's OID (regrole), not its name. */
	static KalixStatement insert = {
		"INSERT INTO kalix.logins (email, display_name, db_role) VALUES ($1, $2, $3) RETURNING id",
		3, {TEXTOID, TEXTOID, REGROLEOID}, NULL
	};
	char	   *email;
	char	   *role = NULL;
	Oid			role_oid = InvalidOid;
	Datum		values[3];
	bool		nulls[3] = {false, PG_ARGISNULL(1), PG_ARGISNULL(2)};
	bool		isnull;
	pg_uuid_t	login;
	StringInfoData detail;

	if (PG_ARGISNULL(0))
		KalixRaiseNullArgument("email");
	email = KalixCleanEmail(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	if (!PG_ARGISNULL(2))
	{
		role = NameStr(*PG_GETARG_NAME(2));
		role_oid = get_role_oid(role, true);
		if (!OidIsValid(role_oid))
			KalixRaiseNoSuchRole(role);
	}

	KalixWriteBegin();
	KalixRequireEmailFree(email, NULL);
	if (role != NULL)
	{
		values[0] = ObjectIdGetDatum(role_oid);
		if (KalixExecute(&role_taken, values, NULL) > 0)
			KalixRaiseRoleTaken(role);
	}
	values[0] = CStringGetTextDatum(email);
	values[1] = nulls[1] ? (Datum) 0 : PG_GETARG_DATUM(1);
	values[2] = ObjectIdGetDatum(role_oid);
	(void) KalixExecute(&insert, values, nulls);
	login = *DatumGetUUIDP(KalixResultDatum(0, 1, &isnull));
	KalixJsonBegin(&detail);
	KalixJsonUuid(&detail, "login_id", &login);
	KalixJsonText(&detail, "email", email);
	KalixJsonText(&detail, "db_role", role);
	KalixJsonEnd(&detail);
	KalixAudit("create_login", NULL, detail.data);
	KalixWriteEnd();
	return KalixUuidDatum(&login);
}

PG_FUNCTION_INFO_V1(kalix_my_accounts);

/* SQL: kalix.my_accounts() -- the current login's unarchived accounts, by name. */
Datum
kalix_my_accounts(PG_FUNCTION_ARGS)
{
	static KalixStatement list = {
		"SELECT a.id, a.name, m.role, a.parent_id, "
		" a.id::pg_catalog.text OPERATOR(pg_catalog.=) pg_catalog.current_setting('kalix.current_account') "
		"FROM kalix.memberships m "
		"JOIN kalix.accounts a ON a.id OPERATOR(pg_catalog.=) m.account_id "
		"WHERE m.login_id OPERATOR(pg_catalog.=) $1 AND a.archived_at IS NULL "
		"ORDER BY a.name, a.id",
		1, {UUIDOID}, NULL
	};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	pg_uuid_t	login;
	Datum		values[1];

	InitMaterializedSRF(fcinfo, 0);
	if (!KalixStatementLogin(&login))
		return (Datum) 0;
	KalixWriteBegin();
	values[0] = UUIDPGetDatum(&login);
	(void) KalixQuery(&list, values, NULL);
	KalixResultToSet(rsinfo);
	KalixWriteEnd();
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(kalix_create_account);

/*
 * SQL: kalix.create_account(name, child, copy_users) -- a new account owned
 * by the current login, optionally a child of and with the members of the
 * current account; one atomic step.
 */
Datum
kalix_create_account(PG_FUNCTION_ARGS)
{
	static KalixStatement insert = {
		"INSERT INTO kalix.accounts (name, parent_id, created_by) VALUES ($1, $2, $3) RETURNING id",
		3, {TEXTOID, UUIDOID, UUIDOID}, NULL
	};
	static KalixStatement owner = {
		"INSERT INTO kalix.memberships (account_id, login_id, role) VALUES ($1, $2, 'owner')",
		2, {UUIDOID, UUIDOID}, NULL
	};
	pg_uuid_t	login;
	char	   *name;
	bool		child = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	bool		copy = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
	pg_uuid_t	current;
	pg_uuid_t	account;
	int			copied = 0;
	Datum		values[3];
	bool		nulls[3] = {false, !child, false};
	bool		isnull;
	KalixTrustedKey trusted[2];
	StringInfoData detail;

	KalixRequireLogin(&login);
	name = AccountName(fcinfo, 0);
	if (child || copy)
	{
		if (!KalixCurrentAccount(&current))
			KalixRaiseNoCurrentAccount();
		if (KalixCachedRole(&current) < KALIX_ROLE_ADMIN)
			KalixRaiseCannotCreateFrom(&current);
	}

	KalixWriteBegin();
	if (child)
	{
		KalixLockForNewChild(&current);
		if (KalixLockedRole(&current) < KALIX_ROLE_ADMIN)
			KalixRaiseCannotCreateFrom(&current);
	}
	values[0] = CStringGetTextDatum(name);
	values[1] = child ? UUIDPGetDatum(&current) : (Datum) 0;
	values[2] = UUIDPGetDatum(&login);
	/*
	 * A child's creator needs no reference check: our membership in the
	 * parent, locked FOR SHARE above, holds the login (reference_keep
	 * refuses to delete a login that memberships name).
	 */
	trusted[0].table = "kalix.logins";
	trusted[0].key = login;
	KalixTrustKeys(trusted, child ? 1 : 0);
	(void) KalixExecute(&insert, values, nulls);
	KalixTrustKeys(NULL, 0);
	account = *DatumGetUUIDP(KalixResultDatum(0, 1, &isnull));
	/* Our membership in it, locked FOR SHARE, holds the parent (reference.c). */
	if (child)
		KalixTrustStoredReference(&account, "parent_id", "kalix.accounts", &current);
	values[0] = UUIDPGetDatum(&account);
	values[1] = UUIDPGetDatum(&login);
	/*
	 * Nor does the owner's membership: its account is the row just
	 * inserted, and its login is held as above or by the check of
	 * created_by, which locked it FOR KEY SHARE.
	 */
	trusted[1].table = "kalix.accounts";
	trusted[1].key = account;
	KalixTrustKeys(trusted, 2);
	(void) KalixExecute(&owner, values, NULL);
	KalixTrustKeys(NULL, 0);
	if (copy)
	{
		/* Roles kept; the new owner's own membership is left as it is. */
		copied = KalixCopyMembers(&current, &account, KALIX_ROLE_OWNER, NULL);
	}
	KalixJsonBegin(&detail);
	KalixJsonText(&detail, "name", name);
	KalixJsonUuid(&detail, "parent_id", child ? &current : NULL);
	KalixJsonUuid(&detail, "copied_from", copy ? &current : NULL);
	KalixJsonInt(&detail, "copied_users", copied);
	KalixJsonEnd(&detail);
	KalixAudit("create_account", &account, detail.data);
	KalixWriteEnd();
	return KalixUuidDatum(&account);
}

/* A jsonb argument (settings or branding); raises unless it is NULL or an object. */
static Jsonb *
ObjectArgument(FunctionCallInfo fcinfo, int n, const char *what)
{
	Jsonb	   *value;

	if (PG_ARGISNULL(n))
		return NULL;
	value = PG_GETARG_JSONB_P(n);
	if (!JB_ROOT_IS_OBJECT(value))
		KalixRaiseNotJsonObject(what,
								TextDatumGetCString(DirectFunctionCall1(jsonb_typeof,
																		JsonbPGetDatum(value))));
	return value;
}

PG_FUNCTION_INFO_V1(kalix_update_account);

/* SQL: kalix.update_account(account, name, settings, branding) -- admin; NULL keeps a field. */
Datum
kalix_update_account(PG_FUNCTION_ARGS)
{
	static KalixStatement changes = {
		"SELECT (CASE WHEN $2 OPERATOR(pg_catalog.<>) a.name"
		"  THEN pg_catalog.jsonb_build_object('name', pg_catalog.jsonb_build_object('old', a.name, 'new', $2))"
		"  ELSE '{}'::pg_catalog.jsonb END"
		" OPERATOR(pg_catalog.||) CASE WHEN $3 OPERATOR(pg_catalog.<>) a.settings"
		"  THEN pg_catalog.jsonb_build_object('settings', pg_catalog.jsonb_build_object('old', a.settings, 'new', $3))"
		"  ELSE '{}'::pg_catalog.jsonb END"
		" OPERATOR(pg_catalog.||) CASE WHEN $4 OPERATOR(pg_catalog.<>) a.branding"
		"  THEN pg_catalog.jsonb_build_object('branding', pg_catalog.jsonb_build_object('old', a.branding, 'new', $4))"
		"  ELSE '{}'::pg_catalog.jsonb END)::pg_catalog.text "
		"FROM kalix.accounts a WHERE a.id OPERATOR(pg_catalog.=) $1",
		4, {UUIDOID, TEXTOID, JSONBOID, JSONBOID}, NULL
	};
	static KalixStatement update = {
		"UPDATE kalix.accounts a SET name = COALESCE($2, a.name), "
		"settings = COALESCE($3, a.settings), branding = COALESCE($4, a.branding) "
		"WHERE a.id OPERATOR(pg_catalog.=) $1",
		4, {UUIDOID, TEXTOID, JSONBOID, JSONBOID}, NULL
	};
	pg_uuid_t	account;
	char	   *name = NULL;
	Jsonb	   *settings;
	Jsonb	   *branding;
	Datum		values[4];
	bool		nulls[4];
	bool		isnull;
	char	   *detail;

	if (PG_ARGISNULL(0))
		KalixRaiseNullArgument("account");
	account = *PG_GETARG_UUID_P(0);
	KalixWriteBegin();
	(void) KalixRequireRole(&account, KALIX_ROLE_ADMIN, "change it", KALIX_ACCESS_LOCKED);
	if (!PG_ARGISNULL(1))
		name = AccountName(fcinfo, 1);
	settings = ObjectArgument(fcinfo, 2, "settings");
	branding = ObjectArgument(fcinfo, 3, "branding");

	values[0] = UUIDPGetDatum(&account);
	values[1] = name ? CStringGetTextDatum(name) : (Datum) 0;
	values[2] = settings ? JsonbPGetDatum(settings) : (Datum) 0;
	values[3] = branding ? JsonbPGetDatum(branding) : (Datum) 0;
	nulls[0] = false;
	nulls[1] = name == NULL;
	nulls[2] = settings == NULL;
	nulls[3] = branding == NULL;
	(void) KalixExecute(&changes, values, nulls);
	detail = TextDatumGetCString(KalixResultDatum(0, 1, &isnull));
	if (strcmp(detail, "{}") != 0)
	{
		(void) KalixExecute(&update, values, nulls);
		KalixAudit("update_account", &account, detail);
	}
	KalixWriteEnd();
	PG_RETURN_VOID();
}

/*
 * Starts archive_account() (archiving) or unarchive_account() (not): checks
 * that the caller owns the account, takes the locks both share -- the
 * account's tree (tree.c), then the account row, then the caller's
 * membership, as in the team functions -- and checks again under them that
 * the caller still owns the account and that it is in the state the change
 * starts from.  Leaves the write begun; the caller ends it.
 */
void
KalixBeginArchiveChange(const pg_uuid_t *account, bool archiving)
{
	bool		archived = false;
	bool		owner = KalixCachedRole(account) >= KALIX_ROLE_OWNER;

	if (owner)
	{
		KalixWriteBegin();
		KalixLockTreeOf(account);
		(void) KalixLockAccount(account, &archived);
		owner = KalixLockedRole(account) >= KALIX_ROLE_OWNER;
	}
	if (!owner && archiving)
		KalixRaiseCannotArchive(account);
	if (!owner)
		KalixRaiseCannotUnarchive(account);
	if (archiving && archived)
		KalixRaiseAlreadyArchived(account);
	if (!archiving && !archived)
		KalixRaiseNotArchived(account);
}

PG_FUNCTION_INFO_V1(kalix_archive_account);

/* SQL: kalix.archive_account(account) -- owner; refused while it has unarchived children. */
Datum
kalix_archive_account(PG_FUNCTION_ARGS)
{
	static KalixStatement children = {
		"SELECT pg_catalog.count(*) FROM kalix.accounts a "
		"WHERE a.parent_id OPERATOR(pg_catalog.=) $1 AND a.archived_at IS NULL",
		1, {UUIDOID}, NULL
	};
	static KalixStatement archive = {
		"UPDATE kalix.accounts a SET archived_at = pg_catalog.now() "
		"WHERE a.id OPERATOR(pg_catalog.=) $1",
		1, {UUIDOID}, NULL
	};
	pg_uuid_t	account;
	Datum		values[1];
	bool		isnull;
	int64		unarchived;

	if (PG_ARGISNULL(0))
		KalixRaiseNullArgument("account");
	account = *PG_GETARG_UUID_P(0);

	KalixBeginArchiveChange(&account, true);
	values[0] = UUIDPGetDatum(&account);
	(void) KalixExecute(&children, values, NULL);
	unarchived = DatumGetInt64(KalixResultDatum(0, 1, &isnull));
	if (unarchived > 0)
		KalixRaiseHasChildren(&account, unarchived);
	(void) KalixExecute(&archive, values, NULL);
	KalixAudit("archive_account", &account, "{}");
	KalixWriteEnd();
	PG_RETURN_VOID();
}
