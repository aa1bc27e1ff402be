/*
 * guc.c
 *		The kalix.* settings: the current account and login, the lineage limit
 *		and the scope of an account choice; and the login the settings name.
 *
 * Below identity.c: the SET-time checks ask the cache (cache.c) directly.
 *
 * kalix.current_account and kalix.current_login are parsed once in their
 * check hooks; the parsed value travels to the assign hook through "extra".
 * Each value remembers the local transaction in which it was set, so that
 * with kalix.account_scope = 'transaction' an account or login chosen in one
 * transaction is treated as unset in every later one, whichever form of SET
 * chose it and however the transaction ended.
 *
 * kalix.account_scope and kalix.max_depth are for superusers.  Before the
 * library loads they are placeholders that anyone may set, and a client's
 * startup option outranks the database and role settings; when the library
 * loads PostgreSQL discards a value its setter may not set, and with it the
 * superuser's value it had replaced.  KeepFixedSetting puts the superuser's
 * value back, or fails closed.  With the library in shared_preload_libraries
 * the settings exist before the client's options are read, and PostgreSQL
 * refuses such a connection at its start.
 */
#include "postgres.h"

#include <stdlib.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_db_role_setting.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/rel.h"

#include "kalix.h"

#if PG_VERSION_NUM >= 160000
#define KalixGucMalloc(size) guc_malloc(LOG, (size))
#define KalixGucFree(ptr) guc_free(ptr)
#else
#define KalixGucMalloc(size) malloc(size)
#define KalixGucFree(ptr) free(ptr)
#endif

static char *current_account_text = NULL;
static char *current_login_text = NULL;
int			kalix_max_depth = 16;
int			kalix_account_scope = KALIX_SCOPE_SESSION;

/* Bumped whenever a setting that decides the identity changes. */
uint64		kalix_setting_generation = 1;

static const KalixUuidSetting *current_account_setting = NULL;
static const KalixUuidSetting *current_login_setting = NULL;

/*
 * While the library loads, a value set before it loaded is being applied;
 * this is the transaction it counts as chosen in (invalid: an earlier one).
 */
static bool loading = false;
static LocalTransactionId loading_lxid = InvalidLocalTransactionId;

static bool SettingInForce(const KalixUuidSetting *s);
static const KalixUuidSetting *AccountInForce(void);
static const KalixUuidSetting *LoginInForce(void);

static const struct config_enum_entry account_scope_options[] = {
	{"session", KALIX_SCOPE_SESSION, false},
	{"transaction", KALIX_SCOPE_TRANSACTION, false},
	{NULL, 0, false}
};

/* One more than the value of each lower-case hex digit; 0 for every other byte. */
static const uint8 hex_value_plus_one[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16
};

/*
 * Parses a UUID in the canonical form (36 characters, lower-case hex, four
 * dashes), the one the settings store; false for any other text.  The check
 * hooks call it at every SET: one table lookup per digit.
 */
static bool
ParseCanonicalUuid(const char *text, pg_uuid_t *uuid)
{
	const unsigned char *p = (const unsigned char *) text;

	for (int i = 0; i < UUID_LEN; i++)
	{
		int			hi,
					lo;

		if ((i == 4 || i == 6 || i == 8 || i == 10) && *p++ != '-')
			return false;
		hi = hex_value_plus_one[p[0]];
		if (hi == 0)
			return false;
		lo = hex_value_plus_one[p[1]];
		if (lo == 0)
			return false;
		uuid->data[i] = (unsigned char) (((hi - 1) << 4) | (lo - 1));
		p += 2;
	}
	return *p == '\0';
}

/*
 * Parses a UUID-or-empty setting into a malloc'd KalixUuidSetting, rewriting
 * *newval to the canonical form.  Returns NULL (with the GUC error detail set)
 * when the text is neither.
 */
static KalixUuidSetting *
ParseUuidSetting(char **newval, GucSource source, const char *what)
{
	KalixUuidSetting parsed = {0};
	KalixUuidSetting *result;

	if (*newval != NULL && (*newval)[0] != '\0')
	{
		parsed.set = true;
		if (ParseCanonicalUuid(*newval, &parsed.id))
			memcpy(parsed.text, *newval, sizeof(parsed.text));
		else if (!KalixParseUuid(*newval, &parsed.id))
		{
			GUC_check_errdetail("The value must be %s id (a UUID) or an empty string.", what);
			return NULL;
		}
		else
		{
			char	   *canonical = KalixUuidToCString(&parsed.id);
			char	   *copy = KalixGucMalloc(strlen(canonical) + 1);

			if (copy == NULL)
				return NULL;
			strcpy(copy, canonical);
			strlcpy(parsed.text, canonical, sizeof(parsed.text));
			pfree(canonical);
			KalixGucFree(*newval);
			*newval = copy;
		}
	}

	/* Only a value given in this session's SQL counts as chosen now. */
	if (loading)
		parsed.lxid = loading_lxid;
	else if (source == PGC_S_SESSION)
		parsed.lxid = KalixCurrentLxid();
	else
		parsed.lxid = InvalidLocalTransactionId;

	result = KalixGucMalloc(sizeof(KalixUuidSetting));
	if (result == NULL)
		return NULL;
	*result = parsed;
	return result;
}

/*
 * Records that a check against the tables, made at the given cache
 * generation, passed: it holds in this transaction while the cache is not
 * invalidated (SettingChecked).
 */
static void
MarkChecked(KalixUuidSetting *setting, uint64 generation)
{
	setting->checked_lxid = KalixCurrentLxid();
	setting->checked_generation = generation;
}

/* True when a check against the tables passed for this value in this transaction, and still holds. */
static bool
SettingChecked(const KalixUuidSetting *s)
{
	return s->checked_lxid == KalixCurrentLxid() && s->checked_lxid != InvalidLocalTransactionId &&
		s->checked_generation == kalix_cache_generation;
}

/*
 * The text a show hook reports for a value: '' for none, else its canonical
 * form, which kalix.act_as's values leave for this to format into buf.
 */
static const char *
ShowValue(const KalixUuidSetting *s, char *buf, Size size)
{
	char	   *text;

	if (s == NULL || !s->set)
		return "";
	if (s->text[0] != '\0')
		return s->text;
	text = KalixUuidToCString(&s->id);
	strlcpy(buf, text, size);
	pfree(text);
	return buf;
}

/* True when a check hook may consult the extension's tables. */
static bool
CanCheckAgainstTables(GucSource source)
{
	return source == PGC_S_SESSION && !loading && IsTransactionState() &&
		!InitializingParallelWorker && KalixInstalled();
}

/* Check hook of kalix.current_account: a UUID or '', and an account the login can use. */
static bool
CheckCurrentAccount(char **newval, void **extra, GucSource source)
{
	KalixUuidSetting *setting = ParseUuidSetting(newval, source, "an account");
	pg_uuid_t	login;

	if (setting == NULL)
		return false;

	/* CanCheckAgainstTables entered the cache: one poll for the hook. */
	if (setting->set && CanCheckAgainstTables(source) && KalixCurrentLogin(&login))
	{
		uint64		generation = kalix_cache_generation;
		KalixRole	role = KalixCachedAccess(&setting->id, &login, false);

		if (role == KALIX_ROLE_NONE)
		{
			GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
			GUC_check_errmsg("permission denied for account \"%s\"", *newval);
			GUC_check_errdetail("The current login is not a member of this account, or the account does not exist or is archived.");
			KalixGucFree(setting);
			return false;
		}
		MarkChecked(setting, generation);
		setting->checked_login = login;
		setting->checked_role = role;
	}
	*extra = setting;
	return true;
}

/* Assign hook of kalix.current_account. */
static void
AssignCurrentAccount(const char *newval, void *extra)
{
	KalixActAsAssigned(false, current_account_setting);
	current_account_setting = extra;
	kalix_setting_generation++;
}

/* Show hook of kalix.current_account: kalix.act_as's account, or '' once a transaction-scoped choice has lapsed. */
static const char *
ShowCurrentAccount(void)
{
	static char buf[UUID_LEN * 2 + 5];

	return ShowValue(AccountInForce(), buf, sizeof(buf));
}

/* Check hook of kalix.current_login: a UUID or '', and a login that exists. */
static bool
CheckCurrentLogin(char **newval, void **extra, GucSource source)
{
	KalixUuidSetting *setting = ParseUuidSetting(newval, source, "a login");

	if (setting == NULL)
		return false;

	if (setting->set && CanCheckAgainstTables(source))
	{
		uint64		generation = kalix_cache_generation;

		if (!KalixLoginExists(&setting->id))
		{
			GUC_check_errcode(ERRCODE_UNDEFINED_OBJECT);
			GUC_check_errmsg("login \"%s\" does not exist", *newval);
			GUC_check_errdetail("kalix.current_login must name a row of kalix.logins.");
			KalixGucFree(setting);
			return false;
		}
		MarkChecked(setting, generation);
	}
	*extra = setting;
	return true;
}

/* Assign hook of kalix.current_login. */
static void
AssignCurrentLogin(const char *newval, void *extra)
{
	KalixActAsAssigned(true, current_login_setting);
	current_login_setting = extra;
	kalix_setting_generation++;
}

/* Assign hook of kalix.account_scope. */
static void
AssignAccountScope(int newval, void *extra)
{
	kalix_account_scope = newval;
	kalix_setting_generation++;
}

/*
 * True when a parsed setting is in force now: set, and with
 * kalix.account_scope = 'transaction' chosen in the running transaction.
 */
static bool
SettingInForce(const KalixUuidSetting *s)
{
	if (s == NULL || !s->set)
		return false;

	/*
	 * A parallel worker restores the leader's value in a transaction of its
	 * own, so its lxid says nothing; the leader cleared a lapsed value before
	 * the query started (KalixClearStaleSettings), so the copy is what it sees.
	 */
	if (kalix_account_scope == KALIX_SCOPE_TRANSACTION && !IsParallelWorker() &&
		(s->lxid == InvalidLocalTransactionId || s->lxid != KalixCurrentLxid()))
		return false;
	return true;
}

/* The value of kalix.current_account in force now: kalix.act_as's, else the setting's; NULL when none. */
static const KalixUuidSetting *
AccountInForce(void)
{
	const KalixUuidSetting *s = KalixActAsValue(false, current_account_setting);

	if (s == NULL)
		s = current_account_setting;
	return SettingInForce(s) ? s : NULL;
}

/* The value of kalix.current_login in force now: kalix.act_as's, else the setting's; NULL when none. */
static const KalixUuidSetting *
LoginInForce(void)
{
	const KalixUuidSetting *s = KalixActAsValue(true, current_login_setting);

	if (s == NULL)
		s = current_login_setting;
	return SettingInForce(s) ? s : NULL;
}

/* What identifies the setting's current value, for kalix.act_as to tell when a SET replaced it. */
const void *
KalixSettingToken(bool login)
{
	return login ? (const void *) current_login_setting : (const void *) current_account_setting;
}

/* The account the settings choose now, if any (transaction scope honoured). */
bool
KalixSettingAccount(pg_uuid_t *account)
{
	const KalixUuidSetting *s = AccountInForce();

	if (s == NULL)
		return false;
	*account = s->id;
	return true;
}

/*
 * The login's role in the account the settings choose, as a check made in
 * this transaction found it; KALIX_ROLE_NONE when no such check holds.
 */
KalixRole
KalixSettingCheckedRole(const pg_uuid_t *login)
{
	const KalixUuidSetting *s = AccountInForce();

	if (s == NULL || !SettingChecked(s) ||
		memcmp(&s->checked_login, login, sizeof(pg_uuid_t)) != 0)
		return KALIX_ROLE_NONE;
	return s->checked_role;
}

/*
 * The login of this session: the one kalix.current_login names, if it
 * exists, else the one whose db_role is the current role outside any
 * SECURITY DEFINER function.  For a caller that entered the cache
 * (KalixCacheBegin) earlier in the same call.
 */
bool
KalixCurrentLogin(pg_uuid_t *login)
{
	const KalixUuidSetting *s = LoginInForce();

	if (s != NULL)
	{
		if (!SettingChecked(s) && !KalixLoginExists(&s->id))
			return false;
		*login = s->id;
		return true;
	}
	return KalixLoginForRole(GetOuterUserId(), login);
}

/* Show hook of kalix.current_login: kalix.act_as's login, or '' once a transaction-scoped choice has lapsed. */
static const char *
ShowCurrentLogin(void)
{
	static char buf[UUID_LEN * 2 + 5];

	return ShowValue(LoginInForce(), buf, sizeof(buf));
}

/*
 * Resets lapsed transaction-scoped identity settings to '' for real, so that
 * what parallel workers copy from this backend is what it sees.  Called
 * before each query runs.
 */
void
KalixClearStaleSettings(void)
{
	if (kalix_account_scope != KALIX_SCOPE_TRANSACTION || IsParallelWorker() ||
		IsInParallelMode() || !IsTransactionState())
		return;
	if (current_account_setting != NULL && current_account_setting->set &&
		!SettingInForce(current_account_setting))
		(void) set_config_option("kalix.current_account", "", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SET, true, 0, false);
	if (current_login_setting != NULL && current_login_setting->set &&
		!SettingInForce(current_login_setting))
		(void) set_config_option("kalix.current_login", "", PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_SET, true, 0, false);
}

/* The setting (or placeholder) of this name; NULL when there is none. */
static struct config_generic *
FindSetting(const char *name)
{
#if PG_VERSION_NUM >= 160000
	return find_option(name, false, true, DEBUG5);
#else
	struct config_generic **vars = get_guc_variables();
	int			n = GetNumConfigOptions();

	for (int i = 0; i < n; i++)
		if (strcmp(vars[i]->name, name) == 0)
			return vars[i];
	return NULL;
#endif
}

/* True when the placeholder named has a value set in the running transaction. */
static bool
PlaceholderSetInTransaction(const char *name)
{
	struct config_generic *gconf = FindSetting(name);

	return gconf != NULL && gconf->stack != NULL;
}

/* Where the value a RESET of this setting returns to came from. */
static GucSource
ResetSource(const char *name)
{
	struct config_generic *gconf = FindSetting(name);

	return gconf != NULL ? gconf->reset_source : PGC_S_DEFAULT;
}

/*
 * The value pg_db_role_setting holds for a setting at one level
 * (ALTER ROLE ... IN DATABASE ... SET, ALTER ROLE, ALTER DATABASE,
 * ALTER ROLE ALL), palloc'd; NULL when none.
 */
static char *
CatalogSettingValue(Relation rel, Oid database, Oid role, const char *name)
{
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tuple;
	char	   *result = NULL;

	ScanKeyInit(&keys[0], Anum_pg_db_role_setting_setdatabase, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(database));
	ScanKeyInit(&keys[1], Anum_pg_db_role_setting_setrole, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(role));
	scan = systable_beginscan(rel, DbRoleSettingDatidRolidIndexId, true, NULL, 2, keys);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		config = heap_getattr(tuple, Anum_pg_db_role_setting_setconfig,
										  RelationGetDescr(rel), &isnull);
		Datum	   *elems;
		int			nelems;

		if (!isnull)
		{
			deconstruct_array(DatumGetArrayTypeP(config), TEXTOID, -1, false, TYPALIGN_INT,
							  &elems, NULL, &nelems);
			for (int i = 0; i < nelems && result == NULL; i++)
			{
				char	   *optname;
				char	   *optvalue;

				ParseLongOption(TextDatumGetCString(elems[i]), &optname, &optvalue);
				if (optvalue != NULL && pg_strcasecmp(optname, name) == 0)
					result = optvalue;
			}
		}
	}
	systable_endscan(scan);
	return result;
}

/*
 * Applies the value the database and role settings give a setting, as the
 * connection's start would have; false when none does (or no catalog can be
 * read here).
 */
static bool
ApplyCatalogSetting(const char *name)
{
	static const struct
	{
		bool		database;
		bool		role;
		GucSource	source;
	}			levels[] = {
		{true, true, PGC_S_DATABASE_USER},
		{false, true, PGC_S_USER},
		{true, false, PGC_S_DATABASE},
		{false, false, PGC_S_GLOBAL},
	};
	Relation	rel;
	bool		applied = false;

	if (!IsTransactionState() || !OidIsValid(MyDatabaseId))
		return false;
	rel = table_open(DbRoleSettingRelationId, AccessShareLock);
	for (int i = 0; i < (int) lengthof(levels) && !applied; i++)
	{
		char	   *value = CatalogSettingValue(rel,
												levels[i].database ? MyDatabaseId : InvalidOid,
												levels[i].role ? GetSessionUserId() : InvalidOid,
												name);

		if (value != NULL)
			applied = set_config_option(name, value, PGC_SUSET, levels[i].source,
										GUC_ACTION_SET, true, WARNING, false) > 0;
	}
	table_close(rel, AccessShareLock);
	return applied;
}

/*
 * A superuser-only setting whose value set before the library loaded
 * PostgreSQL has just discarded (a client's startup option or PGOPTIONS,
 * which outranks the database and role settings, from a role that may not
 * set it): the value a superuser fixed must stay in force.  The database and
 * role settings are applied again; when none gives a value, fail_closed is
 * applied, or without one the connection ends.
 */
static void
KeepFixedSetting(const char *name, GucSource placeholder_source, const char *fail_closed)
{
	if (ResetSource(name) >= placeholder_source || ApplyCatalogSetting(name))
		return;
	if (fail_closed == NULL)
		ereport(FATAL,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("parameter \"%s\" was given by the client but may not be set by this role", name),
				 errdetail("PostgreSQL discarded the value when the kalix_accounts library loaded, and the value a superuser fixed for it cannot be restored."),
				 errhint("Do not pass %s in the connection options, or list kalix_accounts in shared_preload_libraries.", name)));
	(void) set_config_option(name, fail_closed, PGC_SUSET, PGC_S_OVERRIDE,
							 GUC_ACTION_SET, true, 0, false);
	ereport(WARNING,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("parameter \"%s\" is \"%s\" for this connection", name, fail_closed),
			 errdetail("PostgreSQL discarded the value the client gave when the kalix_accounts library loaded, and no database or role setting gives one."),
			 errhint("Do not pass %s in the connection options, or list kalix_accounts in shared_preload_libraries.", name)));
}

/* Defines the kalix.* settings and reserves the prefix. */
void
KalixDefineSettings(void)
{
	GucSource	max_depth_source;
	GucSource	account_scope_source;

	/*
	 * A value set before the library loaded counts as chosen in this
	 * transaction only if this transaction set it (then the placeholder has a
	 * stacked value); any other one is from an earlier transaction.  Each of
	 * the two settings is judged by its own placeholder.
	 */
	loading = true;
	loading_lxid = PlaceholderSetInTransaction("kalix.current_account") ?
		KalixCurrentLxid() : InvalidLocalTransactionId;

	DefineCustomStringVariable("kalix.current_account",
							   "The account this session or transaction works in.",
							   "An account id (UUID), or an empty string for none.",
							   &current_account_text,
							   "",
							   PGC_USERSET,
							   GUC_NOT_IN_SAMPLE,
							   CheckCurrentAccount,
							   AssignCurrentAccount,
							   ShowCurrentAccount);

	loading_lxid = PlaceholderSetInTransaction("kalix.current_login") ?
		KalixCurrentLxid() : InvalidLocalTransactionId;

	DefineCustomStringVariable("kalix.current_login",
							   "The login on whose behalf a trusted application connection acts.",
							   "A login id (UUID); empty means the login whose db_role is the current role.",
							   &current_login_text,
							   "",
							   PGC_SUSET,
							   GUC_NOT_IN_SAMPLE,
							   CheckCurrentLogin,
							   AssignCurrentLogin,
							   ShowCurrentLogin);
	loading = false;

	/* What a client may have put in front of the superuser's value, below. */
	max_depth_source = ResetSource("kalix.max_depth");
	account_scope_source = ResetSource("kalix.account_scope");

	DefineCustomIntVariable("kalix.max_depth",
							"Longest allowed account lineage.",
							NULL,
							&kalix_max_depth,
							16, 1, 1000,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomEnumVariable("kalix.account_scope",
							 "Whether a chosen account lasts for the session or only the transaction.",
							 "'transaction' suits transaction-pooling connection poolers.",
							 &kalix_account_scope,
							 KALIX_SCOPE_SESSION,
							 account_scope_options,
							 PGC_SUSET,
							 0,
							 NULL, AssignAccountScope, NULL);

	MarkGUCPrefixReserved("kalix");

	/* Fail closed: 'transaction' never carries an account to a later client. */
	KeepFixedSetting("kalix.account_scope", account_scope_source, "transaction");
	KeepFixedSetting("kalix.max_depth", max_depth_source, NULL);
}
