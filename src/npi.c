/*
 * npi.c
 *		The npi type of the extension kalix_npi: a US National Provider
 *		Identifier stored like int8.
 *
 * The value is the ten-digit number itself, so that equality, ordering,
 * btree and hash support come from int8's built-in functions (declared over
 * npi in kalix_npi--1.0.sql).  Every way into the type -- text input, binary
 * receive, the bigint and integer casts and npi_is_valid() -- is checked by
 * the one validator in npi_parse.c; this file only turns its verdict into
 * errors.
 *
 * The file is linked into kalix_npi.so, which serves the type, and also into
 * kalix_accounts.so, whose 1.0 install script declared kalix.npi over these
 * same symbols: a 1.0 database keeps reading its NPIs with the 1.1 library
 * until ALTER EXTENSION kalix_accounts UPDATE moves them to npi.
 */
#include "postgres.h"

#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"

#include "compat.h"
#include "npi_parse.h"

pg_noreturn static void NpiReport(const NpiResult *result, const char *shown, int sqlstate);

/* Raises the error that describes why shown is not an NPI. */
static void
NpiReport(const NpiResult *result, const char *shown, int sqlstate)
{
	char		c = result->bad_char;
	bool		printable = c > ' ' && c < 0x7f;

	switch (result->status)
	{
		case NPI_OK:
			break;
		case NPI_EMPTY:
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("invalid NPI \"%s\"", shown),
					 errdetail("An NPI has 10 digits; the input is empty.")));
			break;
		case NPI_SIGN:
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("invalid NPI \"%s\"", shown),
					 errdetail("An NPI has no sign; \"%c\" is not allowed.", c)));
			break;
		case NPI_INNER_BLANK:
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("invalid NPI \"%s\"", shown),
					 errdetail("An NPI has no blanks between its digits.")));
			break;
		case NPI_NOT_DIGIT:
			if (printable)
				ereport(ERROR,
						(errcode(sqlstate),
						 errmsg("invalid NPI \"%s\"", shown),
						 errdetail("An NPI has only digits; \"%c\" is not a digit.", c)));
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("invalid NPI \"%s\"", shown),
					 errdetail("An NPI has only digits; it contains another character.")));
			break;
		case NPI_BAD_LENGTH:
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("invalid NPI \"%s\"", shown),
					 errdetail("An NPI has 10 digits, or 15 beginning with 80840; this one has %d.",
							   result->ndigits)));
			break;
		case NPI_BAD_PREFIX:
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("invalid NPI \"%s\"", shown),
					 errdetail("An NPI of 15 digits begins with 80840.")));
			break;
		case NPI_OUT_OF_RANGE:
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("invalid NPI \"%s\"", shown),
					 errdetail("An NPI is a number from 0 to 9999999999.")));
			break;
		case NPI_BAD_CHECK:
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("invalid NPI \"%s\"", shown),
					 errdetail("Check digit %d does not match the first nine digits, expected check digit %d.",
							   result->found_check, result->expected_check),
					 errhint("Look for a mistyped digit.")));
			break;
	}
	elog(ERROR, "valid NPI \"%s\" reported as invalid", shown);
}

/* Validates a number as an NPI, raising with the given SQLSTATE when it is not one. */
static int64
NpiFromNumber(int64 value, int sqlstate)
{
	NpiResult	result;

	if (NpiCheckValue(value, &result) != NPI_OK)
	{
		char		shown[32];

		snprintf(shown, sizeof(shown), INT64_FORMAT, value);
		NpiReport(&result, shown, sqlstate);
	}
	return result.value;
}

PG_FUNCTION_INFO_V1(kalix_npi_in);

/* SQL: npi_in(cstring) -- text input. */
Datum
kalix_npi_in(PG_FUNCTION_ARGS)
{
	const char *input = PG_GETARG_CSTRING(0);
	NpiResult	result;

	if (NpiParse(input, strlen(input), &result) != NPI_OK)
		NpiReport(&result, input, ERRCODE_INVALID_TEXT_REPRESENTATION);
	PG_RETURN_INT64(result.value);
}

PG_FUNCTION_INFO_V1(kalix_npi_out);

/* SQL: npi_out(npi) -- the ten digits. */
Datum
kalix_npi_out(PG_FUNCTION_ARGS)
{
	char	   *out = palloc(NPI_DIGITS + 1);

	NpiFormat(PG_GETARG_INT64(0), out);
	PG_RETURN_CSTRING(out);
}

PG_FUNCTION_INFO_V1(kalix_npi_recv);

/* SQL: npi_recv(internal) -- binary input (an int8), validated again. */
Datum
kalix_npi_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);

	PG_RETURN_INT64(NpiFromNumber(pq_getmsgint64(buf),
								  ERRCODE_INVALID_BINARY_REPRESENTATION));
}

PG_FUNCTION_INFO_V1(kalix_npi_send);

/* SQL: npi_send(npi) -- binary output, an int8. */
Datum
kalix_npi_send(PG_FUNCTION_ARGS)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint64(&buf, PG_GETARG_INT64(0));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(kalix_npi_from_int8);

/* SQL: npi(bigint) -- the cast from bigint, validated. */
Datum
kalix_npi_from_int8(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(NpiFromNumber(PG_GETARG_INT64(0),
								  ERRCODE_INVALID_TEXT_REPRESENTATION));
}

PG_FUNCTION_INFO_V1(kalix_npi_from_int4);

/* SQL: npi(integer) -- the cast from integer (an integer literal), validated. */
Datum
kalix_npi_from_int4(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(NpiFromNumber((int64) PG_GETARG_INT32(0),
								  ERRCODE_INVALID_TEXT_REPRESENTATION));
}

PG_FUNCTION_INFO_V1(kalix_npi_is_valid);

/* SQL: npi_is_valid(text) -- whether the type's input accepts the text; never raises. */
Datum
kalix_npi_is_valid(PG_FUNCTION_ARGS)
{
	text	   *input = PG_GETARG_TEXT_PP(0);
	NpiResult	result;
	bool		valid;

	valid = NpiParse(VARDATA_ANY(input), VARSIZE_ANY_EXHDR(input), &result) == NPI_OK;
	PG_FREE_IF_COPY(input, 0);
	PG_RETURN_BOOL(valid);
}
