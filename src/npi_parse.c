/*
 * npi_parse.c
 *		Validation of US National Provider Identifiers (NPIs).
 *
 * An NPI is ten digits; the last is the Luhn check digit computed over the
 * prefix 80840 followed by the first nine digits (the CMS rule).  Text input
 * may also use the 15-digit form that spells the prefix out, and may be
 * surrounded by blanks.  Every entry point of the type -- text input, binary
 * receive, the bigint cast and npi_is_valid() -- goes through this file, which
 * reports problems as a status instead of raising, so that it needs no backend
 * and can be fuzzed on its own.
 */
#include "npi_parse.h"

/* The prefix of the 15-digit form (card issuer 80840: US health). */
static const char npi_prefix[] = "80840";

/* True for the blanks allowed around an NPI. */
static bool
NpiIsBlank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The Luhn check digit of 80840 followed by the nine-digit stem (0 .. 999999999). */
int
NpiCheckDigit(int64_t stem)
{
	/* The prefix 80840 contributes 24 to the sum, whatever the stem. */
	int			sum = 24;
	bool		doubled = true;	/* the rightmost stem digit is doubled */
	int			i;

	for (i = 0; i < NPI_DIGITS - 1; i++)
	{
		int			d = (int) (stem % 10);

		stem /= 10;
		if (doubled)
		{
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
		doubled = !doubled;
	}
	return (10 - sum % 10) % 10;
}

/* Validates a number as an NPI: in range and with the right check digit. */
NpiStatus
NpiCheckValue(int64_t value, NpiResult *result)
{
	int			expected;

	result->value = value;
	if (value < 0 || value > NPI_MAX_VALUE)
		return result->status = NPI_OUT_OF_RANGE;
	expected = NpiCheckDigit(value / 10);
	if (expected != (int) (value % 10))
	{
		result->found_check = (int) (value % 10);
		result->expected_check = expected;
		return result->status = NPI_BAD_CHECK;
	}
	return result->status = NPI_OK;
}

/*
 * Parses len bytes of text as an NPI: optional surrounding blanks around
 * either 10 digits or 80840 followed by 10 digits.  A zero byte is an
 * ordinary bad character.
 */
NpiStatus
NpiParse(const char *input, size_t len, NpiResult *result)
{
	size_t		start = 0;
	size_t		end = len;
	size_t		i;
	size_t		ndigits;
	const char *digits;
	int64_t		value = 0;

	result->value = 0;
	result->ndigits = 0;
	result->bad_char = '\0';

	while (start < end && NpiIsBlank(input[start]))
		start++;
	while (end > start && NpiIsBlank(input[end - 1]))
		end--;
	if (start == end)
		return result->status = NPI_EMPTY;

	/* The first character that is not a digit decides the complaint. */
	for (i = start; i < end; i++)
	{
		char		c = input[i];

		if (c >= '0' && c <= '9')
			continue;
		result->bad_char = c;
		if (c == '+' || c == '-')
			return result->status = NPI_SIGN;
		if (NpiIsBlank(c))
			return result->status = NPI_INNER_BLANK;
		return result->status = NPI_NOT_DIGIT;
	}

	ndigits = end - start;
	digits = input + start;
	if (ndigits == NPI_DIGITS + sizeof(npi_prefix) - 1)
	{
		for (i = 0; i < sizeof(npi_prefix) - 1; i++)
			if (digits[i] != npi_prefix[i])
				return result->status = NPI_BAD_PREFIX;
		digits += sizeof(npi_prefix) - 1;
	}
	else if (ndigits != NPI_DIGITS)
	{
		result->ndigits = (int) ndigits;
		return result->status = NPI_BAD_LENGTH;
	}

	for (i = 0; i < NPI_DIGITS; i++)
		value = value * 10 + (digits[i] - '0');
	return NpiCheckValue(value, result);
}

/* Writes the ten digits of a valid NPI value and a terminating zero to out. */
void
NpiFormat(int64_t value, char *out)
{
	int			i;

	for (i = NPI_DIGITS - 1; i >= 0; i--)
	{
		out[i] = (char) ('0' + value % 10);
		value /= 10;
	}
	out[NPI_DIGITS] = '\0';
}
