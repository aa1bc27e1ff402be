/*
 * write.h
 *		The write path's statements: parameterized SPI with cached plans,
 *		and the audit row every change writes.
 */
#ifndef KALIX_WRITE_H
#define KALIX_WRITE_H

#include "postgres.h"

#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "nodes/execnodes.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

/*
 * One SQL statement of the write path, declared once as a static and
 * prepared on first use.  The text names every object schema-qualified; the
 * SQL-callable function that runs it is SECURITY DEFINER with search_path
 * pinned to pg_catalog, pg_temp, so it runs as the extension owner.
 */
typedef struct KalixStatement
{
	const char *sql;
	int			nargs;
	Oid			argtypes[8];
	SPIPlanPtr	plan;			/* kept across calls once prepared */
} KalixStatement;

extern void KalixWriteBegin(void);
extern void KalixWriteEnd(void);
extern uint64 KalixExecute(KalixStatement *stmt, const Datum *values, const bool *nulls);
extern uint64 KalixQuery(KalixStatement *stmt, const Datum *values, const bool *nulls);
extern void KalixStatementArgType(KalixStatement *stmt, int n, Oid type);
extern Datum KalixResultDatum(uint64 row, int column, bool *isnull);
extern void KalixResultToSet(ReturnSetInfo *rsinfo);
extern void KalixAudit(const char *action, const pg_uuid_t *account, const char *detail_json);
extern void KalixAuditJsonb(const char *action, const pg_uuid_t *account, Jsonb *detail);
extern void KalixAuditAccounts(const char *action, const pg_uuid_t *accounts, int n,
							   const char *detail_json);

/* The JSON detail of an audit row, built member by member. */
extern void KalixJsonBegin(StringInfo buf);
extern void KalixJsonText(StringInfo buf, const char *key, const char *value);
extern void KalixJsonUuid(StringInfo buf, const char *key, const pg_uuid_t *value);
extern void KalixJsonBool(StringInfo buf, const char *key, bool value);
extern void KalixJsonInt(StringInfo buf, const char *key, int64 value);
extern void KalixJsonEnd(StringInfo buf);

#endif							/* KALIX_WRITE_H */
