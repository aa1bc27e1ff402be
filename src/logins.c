/*
 * logins.c
 *		Changing a login's details: update_login().
 *
 * A login may change its own email and display name; so may a role that
 * holds SET on kalix.current_login (the application's trusted role), since
 * it could act as that login anyway.  The privilege is checked for the role
 * outside this SECURITY DEFINER function, as SET would check it.  Emails
 * follow create_login()'s rules (accounts.c): trimmed, one "@", unique
 * regardless of case.
 */
#include "postgres.h"

#include <string.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"

#include "kalix.h"
#include "accounts.h"
#include "errors.h"
#include "write.h"

/* True when the role outside SECURITY DEFINER functions may set kalix.current_login. */
static bool
CallerIsTrusted(void)
{
	return pg_parameter_aclcheck("kalix.current_login", GetOuterUserId(), ACL_SET) == ACLCHECK_OK;
}

/* Appends the old and new value of a field to an audit detail; false when it is unchanged. */
static bool
AuditChange(StringInfo detail, const char *field, const char *old_value, const char *new_value)
{
	if (new_value == NULL ||
		(old_value != NULL && strcmp(old_value, new_value) == 0))
		return false;
	KalixJsonText(detail, psprintf("old_%s", field), old_value);
	KalixJsonText(detail, psprintf("new_%s", field), new_value);
	return true;
}

PG_FUNCTION_INFO_V1(kalix_update_login);

/*
 * SQL: kalix.update_login(login, email, display_name) -- the login itself
 * or a trusted application role; NULL keeps a field.
 */
Datum
kalix_update_login(PG_FUNCTION_ARGS)
{
	static KalixStatement lock = {
		"SELECT l.email, l.display_name FROM kalix.logins l "
		"WHERE l.id OPERATOR(pg_catalog.=) $1 FOR UPDATE",
		1, {UUIDOID}, NULL
	};
	static KalixStatement update = {
		"UPDATE kalix.logins l SET email = COALESCE($2, l.email), "
		"display_name = COALESCE($3, l.display_name) "
		"WHERE l.id OPERATOR(pg_catalog.=) $1",
		3, {UUIDOID, TEXTOID, TEXTOID}, NULL
	};
	pg_uuid_t	login;
	char	   *email = NULL;
	char	   *display_name = NULL;
	char	   *old_email;
	char	   *old_display_name = NULL;
	Datum		values[3];
	bool		nulls[3];
	bool		isnull;
	bool		changed;
	StringInfoData detail;

	if (PG_ARGISNULL(0))
		KalixRaiseNullArgument("login");
	login = *PG_GETARG_UUID_P(0);
	if (!CallerIsTrusted())
	{
		pg_uuid_t	me;

		if (!KalixStatementLogin(&me))
			KalixRaiseNoLogin();
		if (memcmp(me.data, login.data, UUID_LEN) != 0)
			KalixRaiseCannotUpdateLogin(&login);
	}
	if (!PG_ARGISNULL(1))
		email = KalixCleanEmail(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	if (!PG_ARGISNULL(2))
		display_name = text_to_cstring(PG_GETARG_TEXT_PP(2));

	KalixWriteBegin();
	values[0] = UUIDPGetDatum(&login);
	if (KalixExecute(&lock, values, NULL) == 0)
		KalixRaiseNoSuchLogin(&login);
	old_email = TextDatumGetCString(KalixResultDatum(0, 1, &isnull));
	values[1] = KalixResultDatum(0, 2, &isnull);
	if (!isnull)
		old_display_name = TextDatumGetCString(values[1]);
	if (email != NULL)
		KalixRequireEmailFree(email, &login);

	KalixJsonBegin(&detail);
	KalixJsonUuid(&detail, "login_id", &login);
	changed = AuditChange(&detail, "email", old_email, email);
	changed = AuditChange(&detail, "display_name", old_display_name, display_name) || changed;
	KalixJsonEnd(&detail);
	if (changed)
	{
		values[1] = email ? CStringGetTextDatum(email) : (Datum) 0;
		values[2] = display_name ? CStringGetTextDatum(display_name) : (Datum) 0;
		nulls[0] = false;
		nulls[1] = email == NULL;
		nulls[2] = display_name == NULL;
		(void) KalixExecute(&update, values, nulls);
		KalixAudit("update_login", NULL, detail.data);
	}
	KalixWriteEnd();
	PG_RETURN_VOID();
}
