/*
 * isolation.c
 *		Support for enable_isolation() and disable_isolation().
 *
 * Those functions are SECURITY DEFINER (they write kalix.isolated_tables),
 * so they ask here whether the role calling them -- the session's role, not
 * the function owner -- owns the table.
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"

#include "kalix.h"

PG_FUNCTION_INFO_V1(kalix_check_table_owner);

/* SQL: kalix.check_table_owner(tbl) -- raises unless the calling role owns tbl. */
Datum
kalix_check_table_owner(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Oid			caller = GetOuterUserId();
	char	   *relname = get_rel_name(relid);
	bool		owner;

	if (relname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
#if PG_VERSION_NUM >= 160000
	owner = object_ownercheck(RelationRelationId, relid, caller);
#else
	owner = pg_class_ownercheck(relid, caller);
#endif
	if (!owner)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table \"%s\"", relname),
				 errdetail("Only the owner of a table can change its isolation.")));
	PG_RETURN_VOID();
}
