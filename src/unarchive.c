/*
 * unarchive.c
 *		Bringing an archived account back: unarchive_account().
 *
 * The reverse of archive_account() (accounts.c), with the same locks taken
 * by the same function, KalixBeginArchiveChange(): the account's tree first
 * (tree.c), then the account row, then the caller's membership (access.c),
 * all read after the locks.  archive_account() of the
 * parent holds the same tree (an unarchived parent is in the archived
 * child's lineage), so the two take turns: an account is never unarchived
 * under a parent archived meanwhile, and a parent is never archived over a
 * child unarchived meanwhile.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"

#include "kalix.h"
#include "accounts.h"
#include "errors.h"
#include "write.h"

PG_FUNCTION_INFO_V1(kalix_unarchive_account);

/* SQL: kalix.unarchive_account(account) -- owner; refused while its parent is archived. */
Datum
kalix_unarchive_account(PG_FUNCTION_ARGS)
{
	static KalixStatement parent = {
		"SELECT p.id, p.archived_at IS NOT NULL FROM kalix.accounts a "
		"JOIN kalix.accounts p ON p.id OPERATOR(pg_catalog.=) a.parent_id "
		"WHERE a.id OPERATOR(pg_catalog.=) $1",
		1, {UUIDOID}, NULL
	};
	static KalixStatement unarchive = {
		"UPDATE kalix.accounts a SET archived_at = NULL "
		"WHERE a.id OPERATOR(pg_catalog.=) $1",
		1, {UUIDOID}, NULL
	};
	pg_uuid_t	account;
	Datum		values[1];
	bool		isnull;

	if (PG_ARGISNULL(0))
		KalixRaiseNullArgument("account");
	account = *PG_GETARG_UUID_P(0);

	KalixBeginArchiveChange(&account, false);
	values[0] = UUIDPGetDatum(&account);
	if (KalixExecute(&parent, values, NULL) > 0 &&
		DatumGetBool(KalixResultDatum(0, 2, &isnull)))
		KalixRaiseParentArchived(&account, DatumGetUUIDP(KalixResultDatum(0, 1, &isnull)));
	(void) KalixExecute(&unarchive, values, NULL);
	KalixAudit("unarchive_account", &account, "{}");
	KalixWriteEnd();
	PG_RETURN_VOID();
}
