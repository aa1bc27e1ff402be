/*
 * invalidate.c
 *		The invalidation messages a change to the extension's tables sends.
 *
 * Every change to kalix.accounts, kalix.logins or kalix.memberships -- the
 * write path's SPI statements and a superuser's own DML alike -- fires the row
 * trigger kalix.cache_invalidate('<table>'), which names the keys the row changed
 * (old and new version) and sends one message per key's bucket (cache.c's top
 * comment describes buckets, how a message travels and what receives it):
 *
 *	accounts	the account (its entry, and every lineage through it: a moved,
 *				archived or unarchived account makes its subtree's lineages
 *				stale), and the children of its parent;
 *	logins		the login (its entry and all that is known of it), and its role;
 *	memberships the list of the login's memberships, and the one membership
 *				(account, login): a login with too many memberships to list
 *				is cached pair by pair, and a change of one pair leaves its
 *				other pairs, and its own row, cached.
 *
 * A write that stores memberships without the trigger (copy_users) sends
 * the same through KalixInvalidateMembership.
 *
 * Duplicates within a (sub)transaction are sent once.  Past
 * MAX_KEYS_PER_XACT distinct buckets in one subtransaction (copy_users of
 * 10,000 members), one message for everything replaces the rest: a sinval
 * queue filled with thousands of messages would overflow and reset every
 * backend's catalog caches.  That message, like the one a statement-level
 * call sends (TRUNCATE, and the triggers of a 1.0 schema not yet updated),
 * empties the kalix caches but, unlike 1.0's relcache invalidation of the
 * table, makes no backend rebuild a relcache entry or re-plan a statement.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/inval.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "kalix.h"

/* Distinct buckets one subtransaction names before it names everything. */
#define MAX_KEYS_PER_XACT 64

/*
 * The buckets this (sub)transaction has named.  Keyed by the local
 * transaction id and the subtransaction: messages of a subtransaction that
 * aborts are dropped with it, so what it sent must be sent again after.
 */
static struct
{
	LocalTransactionId lxid;
	SubTransactionId subxid;
	int			count;
	bool		everything;
	uint8		sent[KALIX_INVAL_BUCKETS / 8];
} sent_state;

/*
 * Registers a relcache invalidation of the OID oid: CacheInvalidateRelcacheByTuple
 * reads only the oid and relisshared of the pg_class tuple it is given.
 */
static void
RegisterOidInvalidation(Oid oid)
{
	Size		hoff = MAXALIGN(SizeofHeapTupleHeader);
	HeapTupleData tuple;
	Form_pg_class form;

	tuple.t_len = hoff + sizeof(FormData_pg_class);
	tuple.t_data = palloc0(tuple.t_len);
	tuple.t_data->t_hoff = hoff;
	form = (Form_pg_class) GETSTRUCT(&tuple);
	form->oid = oid;
	form->relisshared = false;
	CacheInvalidateRelcacheByTuple(&tuple);
	pfree(tuple.t_data);
}

/*
 * Sends the message for one bucket (KALIX_INVAL_BUCKETS: for everything), or
 * for everything once this subtransaction has named too many.
 */
static void
SendBucket(int bucket)
{
	LocalTransactionId lxid = KalixCurrentLxid();
	SubTransactionId subxid = GetCurrentSubTransactionId();

	if (sent_state.lxid != lxid || sent_state.subxid != subxid)
	{
		memset(&sent_state, 0, sizeof(sent_state));
		sent_state.lxid = lxid;
		sent_state.subxid = subxid;
	}
	if (sent_state.everything)
		return;
	if (bucket < KALIX_INVAL_BUCKETS)
	{
		if (sent_state.sent[bucket / 8] & (1 << (bucket % 8)))
			return;
		if (++sent_state.count <= MAX_KEYS_PER_XACT)
		{
			sent_state.sent[bucket / 8] |= 1 << (bucket % 8);
			RegisterOidInvalidation(KALIX_INVAL_OID_BASE + bucket);
			return;
		}
	}
	RegisterOidInvalidation(KALIX_INVAL_OID_ALL);
	sent_state.everything = true;
}

/* Sends the message for a uuid key of the given kind. */
static void
SendUuid(KalixInvalKind kind, const pg_uuid_t *id)
{
	SendBucket(KalixInvalBucket(kind, KalixUuidHash(id)));
}

/* Sends the message for the uuid in one column of a row, unless it is NULL. */
static void
SendUuidColumn(KalixInvalKind kind, HeapTuple tuple, TupleDesc desc, AttrNumber attno)
{
	bool		isnull;
	Datum		value = heap_getattr(tuple, attno, desc, &isnull);

	if (!isnull)
		SendUuid(kind, DatumGetUUIDP(value));
}

/*
 * Sends the messages for the keys of one version of a row of the table the
 * trigger names (its argument: on a Citus node the trigger fires on the
 * local shard, whose name is not the table's).
 */
static void
SendRowKeys(const char *relname, HeapTuple tuple, TupleDesc desc)
{
	if (strcmp(relname, "accounts") == 0)
	{
		SendUuidColumn(KALIX_INVAL_ACCOUNT, tuple, desc, Anum_accounts_id);
		SendUuidColumn(KALIX_INVAL_CHILDREN, tuple, desc, Anum_accounts_parent_id);
	}
	else if (strcmp(relname, "logins") == 0)
	{
		bool		isnull;
		Datum		role = heap_getattr(tuple, Anum_logins_db_role, desc, &isnull);

		SendUuidColumn(KALIX_INVAL_LOGIN, tuple, desc, Anum_logins_id);
		if (TupleDescAttr(desc, Anum_logins_db_role - 1)->atttypid != REGROLEOID)
			SendBucket(KALIX_INVAL_BUCKETS);	/* a name: everything */
		else if (!isnull)
			SendBucket(KalixInvalBucket(KALIX_INVAL_ROLE,
										GetSysCacheHashValue1(AUTHOID, role)));
	}
	else if (strcmp(relname, "memberships") == 0)
	{
		bool		isnull;			/* never: both are the primary key */
		Datum		account = heap_getattr(tuple, Anum_memberships_account_id, desc, &isnull);
		Datum		login = heap_getattr(tuple, Anum_memberships_login_id, desc, &isnull);

		KalixInvalidateMembership(DatumGetUUIDP(account), DatumGetUUIDP(login));
	}
	else
		SendBucket(KALIX_INVAL_BUCKETS);
}

/*
 * Sends what a membership row sends: the login's list of memberships and the
 * one pair; also for a write that stores memberships without the row trigger
 * (members.c's copy).
 */
void
KalixInvalidateMembership(const pg_uuid_t *account, const pg_uuid_t *login)
{
	SendUuid(KALIX_INVAL_MEMBERS, login);
	SendBucket(KalixInvalBucket(KALIX_INVAL_MEMBERSHIP, KalixMembershipHash(account, login)));
}

PG_FUNCTION_INFO_V1(kalix_cache_invalidate);

/*
 * Trigger on the extension's tables: for each row, invalidates the keys its
 * old and new version name in every backend's cache when the change commits
 * (this backend's at its next command); as a statement trigger (TRUNCATE, a
 * 1.0 schema), the whole of every backend's kalix cache.
 */
Datum
kalix_cache_invalidate(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const char *relname;
	TupleDesc	desc;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("kalix.cache_invalidate() must be called as a trigger")));
	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
	{
		SendBucket(KALIX_INVAL_BUCKETS);
		return PointerGetDatum(NULL);
	}
	relname = trigdata->tg_trigger->tgnargs == 1 ? trigdata->tg_trigger->tgargs[0] : "";
	desc = RelationGetDescr(trigdata->tg_relation);
	SendRowKeys(relname, trigdata->tg_trigtuple, desc);
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		SendRowKeys(relname, trigdata->tg_newtuple, desc);
	return PointerGetDatum(NULL);
}
