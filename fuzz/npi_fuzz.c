/*
 * npi_fuzz.c
 *		libFuzzer harness for the NPI validator (src/npi_parse.c).
 *
 * Besides looking for crashes and undefined behaviour, it checks the
 * validator's promises on every input:
 *	- an accepted input formats to ten digits that parse back to the same value;
 *	- the 15-digit form (80840 + those digits), padded with blanks, gives the same value;
 *	- the value passes the numeric check used by binary receive and the bigint cast;
 *	- exactly one of the ten possible last digits is accepted for the same stem;
 *	- a rejected input with only a wrong check digit is accepted once that digit
 *	  is replaced by the one the validator named.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npi_parse.h"

/* Stops the run with a message naming the broken promise. */
static void
Fail(const char *what, const uint8_t *data, size_t size)
{
	fprintf(stderr, "invariant broken: %s (input of %zu bytes)\n", what, size);
	abort();
}

/* Checks the promises that hold for an accepted value. */
static void
CheckAccepted(int64_t value, const uint8_t *data, size_t size)
{
	char		ten[NPI_DIGITS + 1];
	char		fifteen[32];
	NpiResult	again;
	int			d;
	int			valid_digits = 0;

	if (value < 0 || value > NPI_MAX_VALUE)
		Fail("accepted value out of range", data, size);

	NpiFormat(value, ten);
	if (strlen(ten) != NPI_DIGITS)
		Fail("formatted NPI is not ten characters", data, size);
	if (NpiParse(ten, strlen(ten), &again) != NPI_OK || again.value != value)
		Fail("formatted NPI does not parse back to the same value", data, size);

	snprintf(fifteen, sizeof(fifteen), " \t80840%s\n", ten);
	if (NpiParse(fifteen, strlen(fifteen), &again) != NPI_OK || again.value != value)
		Fail("15-digit form differs from the 10-digit one", data, size);

	if (NpiCheckValue(value, &again) != NPI_OK)
		Fail("accepted text but refused the number", data, size);

	for (d = 0; d < 10; d++)
	{
		NpiResult	other;

		ten[NPI_DIGITS - 1] = (char) ('0' + d);
		if (NpiParse(ten, NPI_DIGITS, &other) == NPI_OK)
			valid_digits++;
		else if (other.status != NPI_BAD_CHECK ||
				 other.expected_check != (int) (value % 10))
			Fail("another last digit is refused for the wrong reason", data, size);
	}
	if (valid_digits != 1)
		Fail("not exactly one valid last digit", data, size);
}

/* libFuzzer entry point: one input, any bytes. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	NpiResult	result;
	NpiStatus	status;

	status = NpiParse((const char *) data, size, &result);
	if (status != result.status)
		Fail("returned status differs from the recorded one", data, size);

	switch (status)
	{
		case NPI_OK:
			CheckAccepted(result.value, data, size);
			break;
		case NPI_BAD_CHECK:
			{
				/* Fixing only the check digit must make the input valid. */
				char		ten[NPI_DIGITS + 1];
				NpiResult	fixed;
				int64_t		value;

				if (result.expected_check == result.found_check ||
					result.expected_check < 0 || result.expected_check > 9)
					Fail("bad check digit report is inconsistent", data, size);
				value = result.value - result.found_check + result.expected_check;
				NpiFormat(value, ten);
				if (NpiParse(ten, NPI_DIGITS, &fixed) != NPI_OK || fixed.value != value)
					Fail("the named check digit is not accepted", data, size);
				break;
			}
		case NPI_BAD_LENGTH:
			if (result.ndigits == NPI_DIGITS || result.ndigits == 15 || result.ndigits <= 0)
				Fail("length error with an acceptable length", data, size);
			break;
		case NPI_SIGN:
			if (result.bad_char != '+' && result.bad_char != '-')
				Fail("sign error without a sign", data, size);
			break;
		case NPI_INNER_BLANK:
		case NPI_NOT_DIGIT:
			if (result.bad_char >= '0' && result.bad_char <= '9')
				Fail("a digit reported as a bad character", data, size);
			break;
		case NPI_EMPTY:
		case NPI_BAD_PREFIX:
			break;
		case NPI_OUT_OF_RANGE:
			Fail("text input out of range", data, size);
			break;
	}

	/* Any number goes through the numeric check without trouble. */
	if (size >= sizeof(int64_t))
	{
		int64_t		number;

		memcpy(&number, data, sizeof(number));
		if (NpiCheckValue(number, &result) == NPI_OK)
			CheckAccepted(number, data, size);
	}
	return 0;
}
