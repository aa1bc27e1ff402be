/*
 * uuid.c
 *		UUIDs as the settings and error messages spell them: parsing without
 *		throwing (for GUC check hooks), the canonical text form, and Datums.
 *
 * The bottom layer: it uses nothing else of the extension.
 */
#include "postgres.h"

#include <ctype.h>

#include "kalix.h"

/* Parses a UUID in the forms uuid_in accepts; never throws. */
bool
KalixParseUuid(const char *text, pg_uuid_t *uuid)
{
	const char *p = text;
	bool		braces = false;
	int			digits = 0;

	if (*p == '{')
	{
		braces = true;
		p++;
	}
	while (digits < UUID_LEN * 2)
	{
		int			hi,
					lo;

		if (!isxdigit((unsigned char) p[0]) || !isxdigit((unsigned char) p[1]))
			return false;
		hi = isdigit((unsigned char) p[0]) ? p[0] - '0' : tolower((unsigned char) p[0]) - 'a' + 10;
		lo = isdigit((unsigned char) p[1]) ? p[1] - '0' : tolower((unsigned char) p[1]) - 'a' + 10;
		uuid->data[digits / 2] = (unsigned char) ((hi << 4) | lo);
		p += 2;
		digits += 2;
		if (*p == '-' && digits % 4 == 0 && digits < UUID_LEN * 2)
			p++;
	}
	if (braces)
	{
		if (*p != '}')
			return false;
		p++;
	}
	return *p == '\0';
}

/* Formats a UUID in its canonical lower-case text form, palloc'd. */
char *
KalixUuidToCString(const pg_uuid_t *uuid)
{
	static const char hex[] = "0123456789abcdef";
	char	   *buf = palloc(UUID_LEN * 2 + 5);
	char	   *p = buf;

	for (int i = 0; i < UUID_LEN; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[uuid->data[i] >> 4];
		*p++ = hex[uuid->data[i] & 0x0F];
	}
	*p = '\0';
	return buf;
}

/* Returns a palloc'd copy of a UUID as a Datum. */
Datum
KalixUuidDatum(const pg_uuid_t *uuid)
{
	pg_uuid_t  *copy = palloc(sizeof(pg_uuid_t));

	*copy = *uuid;
	return UUIDPGetDatum(copy);
}
