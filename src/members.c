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
 *
 * copy_users() stores its rows without the table's row triggers, which for
 * 1,000 members cost more than the inserts (two reference checks, each a
 * query, and the cache trigger per row); it does their work set-wise.
 * reference_check's lock of the login becomes one FOR KEY SHARE of each of
 * the source's memberships, in the statement that reads them: a login
 * cannot go while a membership names it, nor that membership while it is
 * locked (a login deleted before is not copied; one whose deletion comes
 * after waits, and its reference_keep trigger then finds the copy).  The
 * target account's row is locked already; the cache invalidation is sent
 * per copied login, as the trigger would.  The rows go through the
 * executor's single-row insert (indexes, NOT NULL), in a subtransaction: a
 * pair that a transaction which took no account lock stored meanwhile (a
 * superuser's INSERT) is a unique violation there, and the copy then runs
 * again as the INSERT ... ON CONFLICT DO NOTHING it was, with every
 * trigger.  So does a table that carries other row triggers, forced
 * row-level security or shards.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "kalix.h"
#include "access.h"
#include "citus.h"
#include "errors.h"
#include "members.h"
#include "reference.h"
#include "tables.h"
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
	/*
	 * The login's row is locked FOR KEY SHARE in the statement that inserts
	 * the membership, as the reference check would lock it (so it cannot be
	 * deleted or re-keyed before this transaction ends); no row is inserted
	 * when there is no such login.
	 */
	static KalixStatement insert = {
		"INSERT INTO kalix.memberships (account_id, login_id, role) "
		"SELECT $1, l.id, $3::kalix.account_role FROM kalix.logins l "
		"WHERE l.id OPERATOR(pg_catalog.=) $2 FOR KEY SHARE OF l "
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
	KalixTrustedKey trusted[2];
	uint64		inserted;
	StringInfoData detail;

	KalixWriteBegin();
	own = KalixRequireRole(&account, KALIX_ROLE_ADMIN, "manage its members", KALIX_ACCESS_LOCKED);
	if (role > own)
		KalixRaiseCannotGrant(&account, role, own);
	values[0] = UUIDPGetDatum(&account);
	values[1] = UUIDPGetDatum(&login);
	values[2] = CStringGetTextDatum(KalixRoleName(role));
	/*
	 * Neither reference needs its check: the account row is locked FOR NO
	 * KEY UPDATE, the login's FOR KEY SHARE by the insert, as the check
	 * would have.
	 */
	trusted[0].table = "kalix.accounts";
	trusted[0].key = account;
	trusted[1].table = "kalix.logins";
	trusted[1].key = login;
	KalixTrustKeys(trusted, 2);
	inserted = KalixExecute(&insert, values, NULL);
	KalixTrustKeys(NULL, 0);
	if (inserted == 0)
	{
		bool		isnull;

		/*
		 * No row and no membership: the insert found no login.  (A
		 * conflicting membership that a superuser's DELETE, which takes no
		 * account lock, removed between the two statements reads the same.)
		 */
		if (KalixExecute(&existing, values, NULL) == 0)
			KalixRaiseNoSuchLogin(&login);
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

/* The OID of kalix.memberships. */
static Oid
MembershipsRelid(void)
{
	return get_relname_relid("memberships", get_namespace_oid("kalix", false));
}

/* The row triggers on kalix.memberships whose work CopyDirectly does itself. */
static const char *const copy_checked_triggers[] = {
	"memberships_account_id_fkey",
	"memberships_login_id_fkey",
	"memberships_cache_invalidate",
};

/*
 * Whether CopyDirectly may store rows in the table: an ordinary table with
 * the columns tables.h names, no forced row-level security, no shards (on
 * Citus the coordinator's table is a shell), and no row trigger on INSERT
 * but those whose work it does.  Anything else takes the SPI statement.
 */
static bool
DirectCopyAllowed(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	TriggerDesc *triggers = rel->trigdesc;

	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relforcerowsecurity ||
		desc->natts != Natts_memberships || KalixCitusHasShards(RelationGetRelid(rel)))
		return false;
	for (int i = 0; i < desc->natts; i++)
		if (TupleDescAttr(desc, i)->attisdropped || TupleDescAttr(desc, i)->atthasmissing)
			return false;
	if (TupleDescAttr(desc, Anum_memberships_account_id - 1)->atttypid != UUIDOID ||
		TupleDescAttr(desc, Anum_memberships_login_id - 1)->atttypid != UUIDOID ||
		TupleDescAttr(desc, Anum_memberships_created_at - 1)->atttypid != TIMESTAMPTZOID)
		return false;
	for (int i = 0; triggers != NULL && i < triggers->numtriggers; i++)
	{
		Trigger    *trigger = &triggers->triggers[i];
		bool		known = false;

		if (!TRIGGER_FOR_INSERT(trigger->tgtype))
			continue;
		for (int k = 0; k < (int) lengthof(copy_checked_triggers); k++)
			known |= TRIGGER_FOR_ROW(trigger->tgtype) &&
				strcmp(trigger->tgname, copy_checked_triggers[k]) == 0;
		if (!known)
			return false;
	}
	return true;
}

/* Pushes a string, as a key (WJB_KEY) or a value (WJB_VALUE), onto a jsonb being built. */
static void
PushString(JsonbParseState **json, JsonbIteratorToken token, const char *text)
{
	JsonbValue	value;

	value.type = jbvString;
	value.val.string.val = (char *) text;
	value.val.string.len = strlen(text);
	(void) pushJsonbValue(json, token, &value);
}

/*
 * Stores one membership of `target` for each of the n logins, with its
 * capped role, and its index entries, through the executor's own single-row
 * insert but without the row triggers, and sends the invalidation the
 * trigger would have sent; unless json is NULL, pushes them onto *json as
 * the audit detail's "members": [{login_id, role}, ...].
 */
static void
InsertRows(Relation rel, const pg_uuid_t *target, const pg_uuid_t *logins, const Datum *roles,
		   int n, JsonbParseState **json)
{
	EState	   *estate = CreateExecutorState();
	ResultRelInfo *result = makeNode(ResultRelInfo);
	TupleTableSlot *slot;
	Datum		created_at = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());

	InitResultRelInfo(result, rel, 0, NULL, 0);
	result->ri_TrigDesc = NULL;
	ExecOpenIndices(result, false);
	slot = ExecInitExtraTupleSlot(estate, RelationGetDescr(rel), &TTSOpsVirtual);
	if (json != NULL)
	{
		PushString(json, WJB_KEY, "members");
		(void) pushJsonbValue(json, WJB_BEGIN_ARRAY, NULL);
	}
	for (int i = 0; i < n; i++)
	{
		ExecClearTuple(slot);
		memset(slot->tts_isnull, false, Natts_memberships * sizeof(bool));
		slot->tts_values[Anum_memberships_account_id - 1] = UUIDPGetDatum(target);
		slot->tts_values[Anum_memberships_login_id - 1] = UUIDPGetDatum(&logins[i]);
		slot->tts_values[Anum_memberships_role - 1] = roles[i];
		slot->tts_values[Anum_memberships_created_at - 1] = created_at;
		ExecStoreVirtualTuple(slot);
		ExecSimpleRelationInsert(result, estate, slot);
		KalixInvalidateMembership(target, &logins[i]);
		ResetPerTupleExprContext(estate);
		if (json == NULL)
			continue;
		(void) pushJsonbValue(json, WJB_BEGIN_OBJECT, NULL);
		PushString(json, WJB_KEY, "login_id");
		PushString(json, WJB_VALUE, KalixUuidToCString(&logins[i]));
		PushString(json, WJB_KEY, "role");
		PushString(json, WJB_VALUE, KalixRoleName(KalixRoleFromEnum(DatumGetObjectId(roles[i]))));
		(void) pushJsonbValue(json, WJB_END_OBJECT, NULL);
	}
	if (json != NULL)
		(void) pushJsonbValue(json, WJB_END_ARRAY, NULL);
	ExecCloseIndices(result);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
}

/* The logins that are members of `account`, in login id order; sets *n. */
static pg_uuid_t *
MemberLogins(const pg_uuid_t *account, int *n)
{
	static KalixStatement members = {
		"SELECT login_id FROM kalix.memberships"
		" WHERE account_id OPERATOR(pg_catalog.=) $1 ORDER BY login_id",
		1, {UUIDOID}, NULL
	};
	Datum		value = UUIDPGetDatum(account);
	pg_uuid_t  *logins;
	bool		isnull;

	*n = (int) KalixExecute(&members, &value, NULL);
	logins = palloc(Max(*n, 1) * sizeof(pg_uuid_t));
	for (int i = 0; i < *n; i++)
		logins[i] = *DatumGetUUIDP(KalixResultDatum(i, 1, &isnull));
	return logins;
}

/*
 * The direct copy: locks FOR KEY SHARE the source's memberships, and stores
 * in a subtransaction those of their logins the target lacks.  A locked
 * membership holds its login as the login_id reference check's lock would:
 * reference_keep refuses to delete or re-key a login that a membership
 * names, and the membership cannot be deleted until this transaction ends
 * (a membership deleted meanwhile, or with its login before, is skipped).
 * The target's members are read first and left out in C: the target's row
 * is locked already (access.c, or it is this transaction's new account),
 * so only a transaction that took no account lock can add one meanwhile,
 * which the primary key then catches; the row lock also covers the
 * account_id check.  (Leaving them out in the statement probed the target's
 * primary key once per source member, and locking the logins instead looked
 * each one up: together half of the statement's cost.)  Returns false, with
 * nothing stored, when such a pair turned up in the primary key (a
 * concurrent INSERT that took no account lock, e.g. a superuser's): the
 * caller then takes the SPI statement, whose ON CONFLICT decides as it always
 * did.  Sets *added, and pushes the detail's "members" onto *json when rows
 * were added (json NULL: no detail wanted).
 */
static bool
CopyDirectly(Relation rel, const pg_uuid_t *source, const pg_uuid_t *target, KalixRole cap,
			 int *added, JsonbParseState **json)
{
	static KalixStatement sources = {
		"SELECT login_id, LEAST(role, $2::kalix.account_role) FROM kalix.memberships"
		" WHERE account_id OPERATOR(pg_catalog.=) $1 ORDER BY login_id FOR KEY SHARE",
		2, {UUIDOID, TEXTOID}, NULL
	};
	Datum		values[2];
	MemoryContext context = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool stored = true;
	int			present;
	pg_uuid_t  *members = MemberLogins(target, &present);
	pg_uuid_t  *logins;
	Datum	   *roles;
	int			rows;

	values[0] = UUIDPGetDatum(source);
	values[1] = CStringGetTextDatum(KalixRoleName(cap));
	rows = (int) KalixExecute(&sources, values, NULL);
	logins = palloc(Max(rows, 1) * sizeof(pg_uuid_t));
	roles = palloc(Max(rows, 1) * sizeof(Datum));
	*added = 0;
	for (int row = 0; row < rows; row++)
	{
		bool		isnull;
		pg_uuid_t  *login = DatumGetUUIDP(KalixResultDatum(row, 1, &isnull));

		if (bsearch(login, members, present, sizeof(pg_uuid_t), KalixUuidCompare) != NULL)
			continue;
		logins[*added] = *login;
		roles[*added] = KalixResultDatum(row, 2, &isnull);
		(*added)++;
	}
	if (*added == 0)
		return true;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(context);
	PG_TRY();
	{
		InsertRows(rel, target, logins, roles, *added, json);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *error;

		MemoryContextSwitchTo(context);
		error = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(context);
		CurrentResourceOwner = owner;
		if (error->sqlerrcode != ERRCODE_UNIQUE_VIOLATION)
			ReThrowError(error);
		FreeErrorData(error);
		stored = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(context);
	CurrentResourceOwner = owner;
	return stored;
}

/*
 * The copy as one INSERT ... ON CONFLICT DO NOTHING, with every row trigger
 * of the table: for a table CopyDirectly may not write, and after it met a
 * concurrent insert.  Sets *added, and *detail unless detail is NULL.
 */
static void
CopyThroughSpi(const pg_uuid_t *source, const pg_uuid_t *target, KalixRole cap,
			   int *added, Jsonb **detail)
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
		"   'login_id', i.login_id, 'role', i.role) ORDER BY i.login_id)) "
		"FROM inserted i",
		3, {UUIDOID, UUIDOID, TEXTOID}, NULL
	};
	Datum		values[3];
	bool		isnull;

	values[0] = UUIDPGetDatum(source);
	values[1] = UUIDPGetDatum(target);
	values[2] = CStringGetTextDatum(KalixRoleName(cap));
	(void) KalixExecute(&copy, values, NULL);
	*added = DatumGetInt32(KalixResultDatum(0, 1, &isnull));
	if (detail != NULL)
		*detail = DatumGetJsonbPCopy(KalixResultDatum(0, 2, &isnull));
}

/*
 * Adds the source's memberships missing in the target, roles capped at
 * `cap`, and returns how many were added; when some were, *detail becomes
 * the audit detail (detail NULL: none is built), {source_id, added,
 * members: [{login_id, role}, ...] by login id}.  The target's row lock
 * serialises the copies and add_member calls of one account, so existing
 * memberships, also those a concurrent copy just made, are left alone (see
 * the top comment for how the direct copy keeps the references and the
 * cache).  The detail is built as jsonb: for 1,000 members, printing it as
 * text and parsing that again took a tenth of the call.
 */
int
KalixCopyMembers(const pg_uuid_t *source, const pg_uuid_t *target, KalixRole cap,
				 Jsonb **detail)
{
	Relation	rel = table_open(MembershipsRelid(), RowExclusiveLock);
	JsonbParseState *state = NULL;
	JsonbParseState **json = detail ? &state : NULL;
	JsonbValue	value;
	int			added;

	if (json != NULL)
		(void) pushJsonbValue(json, WJB_BEGIN_OBJECT, NULL);
	if (!DirectCopyAllowed(rel) || !CopyDirectly(rel, source, target, cap, &added, json))
	{
		table_close(rel, NoLock);
		CopyThroughSpi(source, target, cap, &added, detail);
		return added;
	}
	table_close(rel, NoLock);
	if (json == NULL)
		return added;
	if (added == 0)
	{
		*detail = NULL;
		return added;
	}
	PushString(json, WJB_KEY, "source_id");
	PushString(json, WJB_VALUE, KalixUuidToCString(source));
	PushString(json, WJB_KEY, "added");
	value.type = jbvNumeric;
	value.val.numeric = int64_to_numeric(added);
	(void) pushJsonbValue(json, WJB_VALUE, &value);
	*detail = JsonbValueToJsonb(pushJsonbValue(json, WJB_END_OBJECT, NULL));
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
	Jsonb	   *detail;
	int			added;

	if (memcmp(source.data, target.data, UUID_LEN) == 0)
		KalixRaiseCopyIntoItself(&source);
	KalixWriteBegin();
	(void) KalixRequireRole(&source, KALIX_ROLE_ADMIN, "copy its users", KALIX_ACCESS_CACHED);
	own = KalixRequireRole(&target, KALIX_ROLE_ADMIN, "copy users into it", KALIX_ACCESS_LOCKED);
	added = KalixCopyMembers(&source, &target, own, &detail);
	if (added > 0)
		KalixAuditJsonb("copy_users", &target, detail);
	KalixWriteEnd();
	PG_RETURN_INT32(added);
}
