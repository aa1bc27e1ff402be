/*
 * npi_parse.h
 *		The NPI validator, free of backend dependencies so that the fuzz
 *		harness links the very code the server runs.
 */
#ifndef NPI_PARSE_H
#define NPI_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest value an NPI can have: ten nines. */
#define NPI_MAX_VALUE INT64_C(9999999999)

/* Length of the formatted NPI, without the terminating zero. */
#define NPI_DIGITS 10

/* What the validator found wrong, if anything. */
typedef enum NpiStatus
{
	NPI_OK,
	NPI_EMPTY,					/* nothing but blanks */
	NPI_SIGN,					/* a "+" or "-" */
	NPI_INNER_BLANK,			/* a blank between digits */
	NPI_NOT_DIGIT,				/* any other character that is not a digit */
	NPI_BAD_LENGTH,				/* neither 10 nor 15 digits */
	NPI_BAD_PREFIX,				/* 15 digits not starting with 80840 */
	NPI_OUT_OF_RANGE,			/* a number below 0 or above ten nines */
	NPI_BAD_CHECK				/* everything right but the check digit */
} NpiStatus;

/* The outcome of a validation; the fields beyond value explain a failure. */
typedef struct NpiResult
{
	NpiStatus	status;
	int64_t		value;			/* the NPI, when status is NPI_OK */
	int			ndigits;		/* digits found, for NPI_BAD_LENGTH */
	char		bad_char;		/* offending byte, for NPI_SIGN, NPI_NOT_DIGIT */
	int			found_check;	/* for NPI_BAD_CHECK */
	int			expected_check; /* for NPI_BAD_CHECK */
} NpiResult;

/*
 * Both kalix_npi.so and kalix_accounts.so (for 1.0 databases) link this
 * file; hidden, each library calls its own copy, also in a backend that has
 * loaded both (PostgreSQL 15 exports every symbol otherwise).
 */
#if defined(__GNUC__)
#define NPI_PARSE_LOCAL __attribute__((visibility("hidden")))
#else
#define NPI_PARSE_LOCAL
#endif

extern NPI_PARSE_LOCAL int NpiCheckDigit(int64_t stem);
extern NPI_PARSE_LOCAL NpiStatus NpiCheckValue(int64_t value, NpiResult *result);
extern NPI_PARSE_LOCAL NpiStatus NpiParse(const char *input, size_t len, NpiResult *result);
extern NPI_PARSE_LOCAL void NpiFormat(int64_t value, char *out);

#endif							/* NPI_PARSE_H */
