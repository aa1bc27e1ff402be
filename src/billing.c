/*
 * billing.c
 *		What a subscription invoice needs: billing_summary().
 *
 * The accounts billed to a payer are the ones billed_accounts() lists: the
 * payer's descendants as the backend cache knows them (hierarchy.c), which
 * leaves out archived accounts and what is below them.  Each comes with its
 * count of members (seats) and NPIs.  The function is SECURITY DEFINER,
 * because an admin of the payer need not be a member of every account it
 * pays for, and checks that admin role itself; billing_account() and
 * descendants() still check the caller's membership as they always do.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"

#include "kalix.h"
#include "access.h"
#include "write.h"

PG_FUNCTION_INFO_V1(kalix_billing_summary);

/*
 * SQL: kalix.billing_summary(payer) -- every account billed to the payer (an
 * account that is not a root stands for its payer; NULL: the current
 * account's) with its members and NPIs; admin of the payer.
 */
Datum
kalix_billing_summary(PG_FUNCTION_ARGS)
{
	static KalixStatement payer_of = {
		"SELECT kalix.billing_account($1)",
		1, {UUIDOID}, NULL
	};
	static KalixStatement summary = {
		"SELECT d.account_id, a.name, d.depth, "
		" (SELECT pg_catalog.count(*)::pg_catalog.int4 FROM kalix.memberships m "
		"  WHERE m.account_id OPERATOR(pg_catalog.=) d.account_id), "
		" (SELECT pg_catalog.count(*)::pg_catalog.int4 FROM kalix.account_npis n "
		"  WHERE n.account_id OPERATOR(pg_catalog.=) d.account_id) "
		"FROM kalix.descendants($1) d "
		"JOIN kalix.accounts a ON a.id OPERATOR(pg_catalog.=) d.account_id "
		"ORDER BY d.depth, a.name, a.id",
		1, {UUIDOID}, NULL
	};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		values[1];
	bool		nulls[1];
	pg_uuid_t	payer;

	InitMaterializedSRF(fcinfo, 0);
	KalixWriteBegin();
	values[0] = PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0);
	nulls[0] = PG_ARGISNULL(0);
	(void) KalixExecute(&payer_of, values, nulls);
	values[0] = KalixResultDatum(0, 1, &nulls[0]);
	if (nulls[0])
	{
		/* No account given and none current: nothing is billed. */
		KalixWriteEnd();
		return (Datum) 0;
	}
	payer = *DatumGetUUIDP(values[0]);
	(void) KalixRequireRole(&payer, KALIX_ROLE_ADMIN, "see its billing summary", KALIX_ACCESS_CACHED);
	values[0] = UUIDPGetDatum(&payer);
	(void) KalixExecute(&summary, values, NULL);
	KalixResultToSet(rsinfo);
	KalixWriteEnd();
	return (Datum) 0;
}
