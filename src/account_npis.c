/*
 * account_npis.c
 *		The NPIs an account bills under: add_npi(), remove_npi() and
 *		primary_npi().
 *
 * The changes check the caller with the account row locked (access.c), so
 * the NPI changes of one account, and its archiving, take turns; at most one
 * NPI per account is primary, and making another one primary moves the
 * flag in the same step.  The NPI type may live in any schema (it moves to
 * the companion extension kalix_npi): its OID is taken from the call, the
 * value is compared as the int8 it is stored as, and printed with the
 * type's own output function.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "kalix.h"
#include "access.h"
#include "errors.h"
#include "write.h"

/* An NPI value as text, by its type's output function. */
static char *
NpiText(Oid type, Datum npi)
{
	Oid			output;
	bool		varlena;

	getTypeOutputInfo(type, &output, &varlena);
	return OidOutputFunctionCall(output, npi);
}

/* The white-space-trimmed label, NULL when absent or empty. */
static char *
Label(FunctionCallInfo fcinfo, int n)
{
	char	   *label;
	char	   *end;

	if (PG_ARGISNULL(n))
		return NULL;
	label = text_to_cstring(PG_GETARG_TEXT_PP(n));
	while (*label == ' ')
		label++;
	end = label + strlen(label);
	while (end > label && end[-1] == ' ')
		*--end = '\0';
	return *label ? label : NULL;
}

PG_FUNCTION_INFO_V1(kalix_add_npi);

/* SQL: kalix.add_npi(account, npi, label, is_primary) -- admin; is_primary moves the flag. */
Datum
kalix_add_npi(PG_FUNCTION_ARGS)
{
	static KalixStatement exists = {
		"SELECT 1 FROM kalix.account_npis n WHERE n.account_id OPERATOR(pg_catalog.=) $1 "
		"AND n.npi::pg_catalog.int8 OPERATOR(pg_catalog.=) $2",
		2, {UUIDOID, INT8OID}, NULL
	};
	static KalixStatement unflag = {
		"UPDATE kalix.account_npis n SET is_primary = false "
		"WHERE n.account_id OPERATOR(pg_catalog.=) $1 AND n.is_primary RETURNING n.npi",
		1, {UUIDOID}, NULL
	};
	static KalixStatement insert = {
		"INSERT INTO kalix.account_npis (account_id, npi, label, is_primary) VALUES ($1, $2, $3, $4)",
		4, {UUIDOID, InvalidOid, TEXTOID, BOOLOID}, NULL
	};
	Oid			npi_type = get_fn_expr_argtype(fcinfo->flinfo, 1);
	pg_uuid_t	account;
	Datum		npi;
	char	   *label = Label(fcinfo, 2);
	bool		primary = !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);
	char	   *previous = NULL;
	Datum		values[4];
	bool		nulls[4] = {false, false, label == NULL, false};
	StringInfoData detail;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		KalixRaiseNullArgument("account and NPI");
	account = *PG_GETARG_UUID_P(0);
	npi = PG_GETARG_DATUM(1);
	KalixWriteBegin();
	(void) KalixRequireRole(&account, KALIX_ROLE_ADMIN, "change its NPIs", KALIX_ACCESS_LOCKED);
	values[0] = UUIDPGetDatum(&account);
	values[1] = npi;
	if (KalixExecute(&exists, values, NULL) > 0)
		KalixRaiseNpiTaken(NpiText(npi_type, npi), &account);
	if (primary && KalixExecute(&unflag, values, NULL) > 0)
	{
		bool		isnull;

		previous = NpiText(npi_type, KalixResultDatum(0, 1, &isnull));
	}
	values[2] = label ? CStringGetTextDatum(label) : (Datum) 0;
	values[3] = BoolGetDatum(primary);
	KalixStatementArgType(&insert, 1, npi_type);
	(void) KalixExecute(&insert, values, nulls);
	KalixJsonBegin(&detail);
	KalixJsonText(&detail, "npi", NpiText(npi_type, npi));
	KalixJsonText(&detail, "label", label);
	KalixJsonBool(&detail, "is_primary", primary);
	KalixJsonText(&detail, "previous_primary", previous);
	KalixJsonEnd(&detail);
	KalixAudit("add_npi", &account, detail.data);
	KalixWriteEnd();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(kalix_remove_npi);

/* SQL: kalix.remove_npi(account, npi) -- admin; removing the primary leaves none. */
Datum
kalix_remove_npi(PG_FUNCTION_ARGS)
{
	static KalixStatement delete = {
		"DELETE FROM kalix.account_npis n WHERE n.account_id OPERATOR(pg_catalog.=) $1 "
		"AND n.npi::pg_catalog.int8 OPERATOR(pg_catalog.=) $2 RETURNING n.is_primary",
		2, {UUIDOID, INT8OID}, NULL
	};
	Oid			npi_type = get_fn_expr_argtype(fcinfo->flinfo, 1);
	pg_uuid_t	account;
	Datum		npi;
	Datum		values[2];
	bool		isnull;
	bool		was_primary;
	StringInfoData detail;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		KalixRaiseNullArgument("account and NPI");
	account = *PG_GETARG_UUID_P(0);
	npi = PG_GETARG_DATUM(1);
	KalixWriteBegin();
	(void) KalixRequireRole(&account, KALIX_ROLE_ADMIN, "change its NPIs", KALIX_ACCESS_LOCKED);
	values[0] = UUIDPGetDatum(&account);
	values[1] = npi;
	if (KalixExecute(&delete, values, NULL) == 0)
		KalixRaiseNpiUnknown(NpiText(npi_type, npi), &account);
	was_primary = DatumGetBool(KalixResultDatum(0, 1, &isnull));
	KalixJsonBegin(&detail);
	KalixJsonText(&detail, "npi", NpiText(npi_type, npi));
	KalixJsonBool(&detail, "was_primary", was_primary);
	KalixJsonEnd(&detail);
	KalixAudit("remove_npi", &account, detail.data);
	KalixWriteEnd();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(kalix_primary_npi);

/* SQL: kalix.primary_npi(account) -- the primary NPI (default: of the current account), or NULL. */
Datum
kalix_primary_npi(PG_FUNCTION_ARGS)
{
	static KalixStatement primary = {
		"SELECT n.npi FROM kalix.account_npis n "
		"WHERE n.account_id OPERATOR(pg_catalog.=) $1 AND n.is_primary",
		1, {UUIDOID}, NULL
	};
	pg_uuid_t	account;
	Datum		values[1];
	Datum		result = (Datum) 0;
	bool		found;
	bool		isnull;
	int16		typlen;
	bool		typbyval;

	if (PG_ARGISNULL(0))
	{
		if (!KalixCurrentAccount(&account))
			PG_RETURN_NULL();
	}
	else
		account = *PG_GETARG_UUID_P(0);
	if (KalixCachedRole(&account) == KALIX_ROLE_NONE)
		KalixRaiseNotMember(&account);
	get_typlenbyval(get_fn_expr_rettype(fcinfo->flinfo), &typlen, &typbyval);
	KalixWriteBegin();
	values[0] = UUIDPGetDatum(&account);
	found = KalixQuery(&primary, values, NULL) > 0;
	if (found)
		result = SPI_datumTransfer(KalixResultDatum(0, 1, &isnull), typbyval, typlen);
	KalixWriteEnd();
	if (!found)
		PG_RETURN_NULL();
	return result;
}
