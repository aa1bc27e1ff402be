/*
 * lint.c
 *		kalix.lint(): what weakens the isolation of application tables.
 *
 * Runs with the caller's rights: it reads only catalogs every role may read
 * and kalix.isolated_tables (readable by PUBLIC).  The SQL function pins
 * search_path to pg_catalog, pg_temp, so pg_get_expr and regclass print
 * schema-qualified names and policy expressions compare exactly with
 * kalix_policy_defs (isolation.c), the definitions enable_isolation creates.
 *
 * The per-table findings computed in C (policies, constraints) are handed
 * to the one query of catalog findings, which sorts everything with the
 * database's collation.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "kalix.h"
#include "citus.h"
#include "isolation.h"
#include "write.h"

/* Findings gathered in C before the final query. */
typedef struct LintFindings
{
	List	   *objects;		/* of text Datums */
	List	   *problems;
	const char *table;			/* the table the next findings are about */
	const char *column;
} LintFindings;

/* Appends one finding. */
static void
AddFinding(LintFindings *findings, const char *object, const char *problem)
{
	findings->objects = lappend(findings->objects, DatumGetPointer(CStringGetTextDatum(object)));
	findings->problems = lappend(findings->problems, DatumGetPointer(CStringGetTextDatum(problem)));
}

/* Appends a part of a "differs" finding, separated by "; ". */
static void
AddDifference(StringInfo buf, const char *fmt, const char *found, const char *expected)
{
	if (buf->len > 0)
		appendStringInfoString(buf, "; ");
	appendStringInfo(buf, fmt, found, expected);
}

/*
 * Compares the kalix policies of one registered table with kalix_policy_defs,
 * in the layout of a table with Citus shards when it has them.
 */
static void
CheckPolicies(LintFindings *findings, Oid relid, bool inherited)
{
	bool		shards = KalixShardLayout(relid);

	static KalixStatement select = {
		"SELECT p.polcmd::pg_catalog.text, p.polpermissive, "
		"       CASE WHEN p.polroles OPERATOR(pg_catalog.=) '{0}'::pg_catalog.oid[] THEN NULL "
		"       ELSE (SELECT pg_catalog.string_agg(CASE WHEN o OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC' "
		"                 ELSE pg_catalog.quote_ident(o::pg_catalog.regrole::pg_catalog.text) END, ', ') "
		"             FROM pg_catalog.unnest(p.polroles) AS o) END, "
		"       pg_catalog.pg_get_expr(p.polqual, p.polrelid), "
		"       pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) "
		"FROM pg_catalog.pg_policy p "
		"WHERE p.polrelid OPERATOR(pg_catalog.=) $1 AND p.polname OPERATOR(pg_catalog.=) $2",
		2, {OIDOID, NAMEOID}, NULL
	};

	for (int i = 0; i < kalix_policy_def_count; i++)
	{
		const KalixPolicyDef *def = &kalix_policy_defs[i];
		char	   *qual = KalixPolicyExprText(def->using_expr, findings->column, inherited, true);
		char	   *check = KalixPolicyExprText(def->check_expr, findings->column, inherited, true);
		Datum		values[2];
		NameData	name;
		bool		isnull;
		char		cmd;
		bool		permissive;
		bool		want_permissive;
		char	   *roles = NULL;
		char	   *f_qual = NULL;
		char	   *f_check = NULL;
		StringInfoData diff;
		Datum		d;

		/* A policy the layout leaves out is reported by KalixCitusLintTable if present. */
		if (!KalixPolicyInLayout(def, shards, &want_permissive))
			continue;
		namestrcpy(&name, def->name);
		values[0] = ObjectIdGetDatum(relid);
		values[1] = NameGetDatum(&name);
		if (KalixExecute(&select, values, NULL) == 0)
		{
			AddFinding(findings, findings->table, psprintf("policy %s is missing", def->name));
			continue;
		}
		cmd = TextDatumGetCString(KalixResultDatum(0, 1, &isnull))[0];
		permissive = DatumGetBool(KalixResultDatum(0, 2, &isnull));
		d = KalixResultDatum(0, 3, &isnull);
		if (!isnull)
			roles = TextDatumGetCString(d);
		d = KalixResultDatum(0, 4, &isnull);
		if (!isnull)
			f_qual = TextDatumGetCString(d);
		d = KalixResultDatum(0, 5, &isnull);
		if (!isnull)
			f_check = TextDatumGetCString(d);

		initStringInfo(&diff);
		if (cmd != def->cmd)
			AddDifference(&diff, "FOR %s instead of FOR %s",
						  KalixPolicyCommand(cmd), KalixPolicyCommand(def->cmd));
		if (permissive != want_permissive)
			AddDifference(&diff, "AS %s instead of AS %s",
						  permissive ? "PERMISSIVE" : "RESTRICTIVE",
						  want_permissive ? "PERMISSIVE" : "RESTRICTIVE");
		if (roles != NULL)
			AddDifference(&diff, "TO %s instead of TO %s", roles, "PUBLIC");
		if ((f_qual == NULL) != (qual == NULL) || (qual && strcmp(f_qual, qual) != 0))
			AddDifference(&diff, "USING %s instead of %s",
						  f_qual ? f_qual : "nothing", qual ? qual : "nothing");
		if ((f_check == NULL) != (check == NULL) || (check && strcmp(f_check, check) != 0))
			AddDifference(&diff, "WITH CHECK %s instead of %s",
						  f_check ? f_check : "nothing", check ? check : "nothing");
		if (diff.len > 0)
			AddFinding(findings, findings->table,
					   psprintf("policy %s differs from what kalix.enable_isolation creates: %s",
								def->name, diff.data));
	}
}

/* Records one finding of citus.c. */
static void
ReportCitus(const char *object, const char *problem, void *arg)
{
	AddFinding((LintFindings *) arg, object, problem);
}

/* Records one constraint that leaves out the account column. */
static void
ReportConstraint(const char *what, const char *why, void *arg)
{
	LintFindings *findings = (LintFindings *) arg;

	AddFinding(findings, findings->table,
			   psprintf("%s leaves out the account column %s: %s",
						what, quote_identifier(findings->column), why));
}

/* A List of text Datums as a text[] Datum. */
static Datum
TextArray(List *texts)
{
	int			n = list_length(texts);
	Datum	   *elems;
	int			i = 0;
	ListCell   *lc;

	if (n == 0)
		return PointerGetDatum(construct_empty_array(TEXTOID));
	elems = palloc(sizeof(Datum) * n);
	foreach(lc, texts)
		elems[i++] = PointerGetDatum(lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * The findings read from the catalogs in one query, with those of C added
 * as $1 (objects) and $2 (problems), sorted.
 */
static KalixStatement lint_query = {
	"WITH RECURSIVE registered AS ( "
	"    SELECT t.tbl::oid AS relid, t.account_column, t.inherited FROM kalix.isolated_tables t "
	"), "
	"kalix_schema AS ( "
	"    SELECT e.extnamespace AS nspid FROM pg_extension e WHERE e.extname = 'kalix_accounts' "
	"), "
	/* Tables inheriting from a registered table, at any depth, with that table. */
	"descendants (relid, base) AS ( "
	"    SELECT i.inhrelid, i.inhparent "
	"    FROM pg_inherits i JOIN registered r ON r.relid = i.inhparent "
	"    UNION "
	"    SELECT i.inhrelid, d.base "
	"    FROM pg_inherits i JOIN descendants d ON d.relid = i.inhparent "
	"), "
	/* Views and materialized views reading a registered table, directly or through other views. */
	"readers (relid, base) AS ( "
	"    SELECT rw.ev_class, r.relid "
	"    FROM registered r "
	"    JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = r.relid "
	"                    AND d.classid = 'pg_rewrite'::regclass "
	"    JOIN pg_rewrite rw ON rw.oid = d.objid "
	"    WHERE rw.ev_class <> r.relid "
	"    UNION "
	"    SELECT rw.ev_class, v.base "
	"    FROM readers v "
	"    JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = v.relid "
	"                    AND d.classid = 'pg_rewrite'::regclass "
	"    JOIN pg_rewrite rw ON rw.oid = d.objid "
	"    WHERE rw.ev_class <> v.relid "
	") "
	"SELECT object, problem FROM ( "
	"    SELECT * FROM unnest($1::text[], $2::text[]) "
	"    UNION ALL "
	"    SELECT c.oid::regclass::text, "
	"           'row-level security is disabled, so the kalix policies are not applied' "
	"    FROM registered r JOIN pg_class c ON c.oid = r.relid "
	"    WHERE NOT c.relrowsecurity "
	"    UNION ALL "
	"    SELECT c.oid::regclass::text, "
	"           'row-level security is not forced, so the table''s owner bypasses the kalix policies' "
	"    FROM registered r JOIN pg_class c ON c.oid = r.relid "
	"    WHERE NOT c.relforcerowsecurity "
	"    UNION ALL "
	"    SELECT d.relid::regclass::text, "
	"           format('%s of isolated table %s without kalix isolation: queried directly, it shows the rows of every account', "
	"                  CASE WHEN c.relispartition THEN 'partition' ELSE 'child table' END, "
	"                  string_agg(DISTINCT d.base::regclass::text, ', ')) "
	"    FROM descendants d JOIN pg_class c ON c.oid = d.relid "
	"    WHERE NOT EXISTS (SELECT 1 FROM registered r WHERE r.relid = d.relid) "
	"    GROUP BY d.relid, c.relispartition "
	"    UNION ALL "
	"    SELECT v.relid::regclass::text, "
	"           CASE c.relkind "
	"               WHEN 'm' THEN format('materialized view over isolated table %s: it keeps the rows its owner saw at refresh, without row-level security', "
	"                                    string_agg(DISTINCT v.base::regclass::text, ', ')) "
	"               ELSE format('view over isolated table %s without security_invoker: the table''s policies are checked as the view''s owner, and not at all when the owner is a superuser or has BYPASSRLS', "
	"                           string_agg(DISTINCT v.base::regclass::text, ', ')) "
	"           END "
	"    FROM readers v JOIN pg_class c ON c.oid = v.relid "
	"    WHERE c.relkind = 'm' "
	"       OR (c.relkind = 'v' AND NOT EXISTS ( "
	"               SELECT 1 FROM pg_options_to_table(c.reloptions) o "
	"               WHERE o.option_name = 'security_invoker' AND o.option_value::boolean)) "
	"    GROUP BY v.relid, c.relkind "
	"    UNION ALL "
	"    SELECT p.oid::regprocedure::text, "
	"           'SECURITY DEFINER function without a pinned search_path: a caller''s search_path can substitute the objects it names' "
	"    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
	"    WHERE p.prosecdef "
	"      AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
	"      AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) AS s WHERE s LIKE 'search\\_path=%') "
	"    UNION ALL "
	/* Privileges that row-level security does not govern. */
	"    SELECT DISTINCT c.oid::regclass::text, "
	"           format('%s granted to %s: %s', a.privilege_type, "
	"                  CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(a.grantee::regrole::text) END, "
	"                  CASE a.privilege_type "
	"                      WHEN 'TRUNCATE' THEN 'TRUNCATE ignores row-level security and empties the table for every account' "
	"                      WHEN 'REFERENCES' THEN 'a foreign key of theirs tells which rows of other accounts exist' "
	"                      ELSE 'a trigger of theirs sees the rows every account writes' END) "
	"    FROM registered r JOIN pg_class c ON c.oid = r.relid, LATERAL aclexplode(c.relacl) a "
	"    WHERE a.privilege_type IN ('TRUNCATE', 'REFERENCES', 'TRIGGER') AND a.grantee <> c.relowner "
	"    UNION ALL "
	"    SELECT c.oid::regclass::text, "
	"           format('rule %s: its actions run with the rights of the table''s owner on the rows of every account, and can copy them past the kalix policies', "
	"                  quote_ident(rw.rulename)) "
	"    FROM registered r JOIN pg_class c ON c.oid = r.relid JOIN pg_rewrite rw ON rw.ev_class = r.relid "
	"    WHERE rw.rulename <> '_RETURN' "
	"    UNION ALL "
	/*
	 * Bodies are text: a function whose body names the table (or that
	 * depends on it, BEGIN ATOMIC) is taken to read it.  The extension's own
	 * functions touch only its tables.
	 */
	"    SELECT p.oid::regprocedure::text, "
	"           format('SECURITY DEFINER function owned by %s, %s, names isolated table %s: row-level security does not apply to its owner, so every caller reads the rows of every account', "
	"                  quote_ident(o.rolname), CASE WHEN o.rolsuper THEN 'a superuser' ELSE 'a BYPASSRLS role' END, "
	"                  string_agg(DISTINCT c.oid::regclass::text, ', ')) "
	"    FROM pg_proc p JOIN pg_roles o ON o.oid = p.proowner "
	"    JOIN pg_language l ON l.oid = p.prolang, registered r JOIN pg_class c ON c.oid = r.relid "
	"    WHERE p.prosecdef AND (o.rolsuper OR o.rolbypassrls) AND l.lanname NOT IN ('c', 'internal') "
	"      AND (p.prosrc ~* ('\\m' || regexp_replace(c.relname, '([^[:alnum:]_])', '\\\\\\1', 'g') || '\\M') "
	"           OR EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid "
	"                      AND d.refclassid = 'pg_class'::regclass AND d.refobjid = r.relid)) "
	"      AND NOT EXISTS (SELECT 1 FROM pg_depend e JOIN pg_extension x ON x.oid = e.refobjid "
	"                      WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e' "
	"                        AND e.refclassid = 'pg_extension'::regclass AND x.extname = 'kalix_accounts') "
	"    GROUP BY p.oid, o.rolname, o.rolsuper "
	"    UNION ALL "
	/* Schema kalix: only the extension's own objects, and nobody else may create any. */
	"    SELECT pg_describe_object(d.classid, d.objid, d.objsubid), "
	"           'in schema kalix but not part of the extension: a name the extension uses could resolve to it' "
	"    FROM pg_depend d JOIN kalix_schema k ON d.refobjid = k.nspid "
	"    WHERE d.refclassid = 'pg_namespace'::regclass AND d.classid <> 'pg_extension'::regclass "
	"      AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = d.classid AND e.objid = d.objid "
	"                      AND e.refclassid = 'pg_extension'::regclass AND e.deptype = 'e') "
	"    UNION ALL "
	"    SELECT 'schema ' || quote_ident(n.nspname), "
	"           format('CREATE granted to %s: what they create in the schema could capture a name the extension uses', "
	"                  CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(a.grantee::regrole::text) END) "
	"    FROM pg_namespace n JOIN kalix_schema k ON n.oid = k.nspid, LATERAL aclexplode(n.nspacl) a "
	"    WHERE a.privilege_type = 'CREATE' AND a.grantee <> n.nspowner "
	"    UNION ALL "
	"    SELECT 'schema ' || quote_ident(n.nspname), "
	"           format('owned by %s, who is not a superuser: they can create objects in it that capture a name the extension uses', "
	"                  quote_ident(o.rolname)) "
	"    FROM pg_namespace n JOIN kalix_schema k ON n.oid = k.nspid JOIN pg_roles o ON o.oid = n.nspowner "
	"    WHERE NOT o.rolsuper "
	") AS problems (object, problem) "
	"ORDER BY object, problem",
	2, {TEXTARRAYOID, TEXTARRAYOID}, NULL
};

PG_FUNCTION_INFO_V1(kalix_lint);

/* SQL: kalix.lint() -- one row (object, problem) per weakness of isolation. */
Datum
kalix_lint(PG_FUNCTION_ARGS)
{
	static KalixStatement registered = {
		"SELECT tbl::pg_catalog.oid, tbl::pg_catalog.text, account_column::pg_catalog.text, inherited "
		"FROM kalix.isolated_tables ORDER BY 2",
		0, {InvalidOid}, NULL
	};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	LintFindings findings = {NIL, NIL, NULL, NULL};
	uint64		n;
	Oid		   *relids;
	char	  **tables;
	char	  **columns;
	bool	   *inherited;
	Datum		values[2];

	InitMaterializedSRF(fcinfo, 0);
	KalixWriteBegin();

	n = KalixExecute(&registered, NULL, NULL);
	relids = palloc(sizeof(Oid) * (n + 1));
	tables = palloc(sizeof(char *) * (n + 1));
	columns = palloc(sizeof(char *) * (n + 1));
	inherited = palloc(sizeof(bool) * (n + 1));
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;

		relids[i] = DatumGetObjectId(KalixResultDatum(i, 1, &isnull));
		tables[i] = TextDatumGetCString(KalixResultDatum(i, 2, &isnull));
		columns[i] = TextDatumGetCString(KalixResultDatum(i, 3, &isnull));
		inherited[i] = DatumGetBool(KalixResultDatum(i, 4, &isnull));
	}
	for (uint64 i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		findings.table = tables[i];
		findings.column = columns[i];
		CheckPolicies(&findings, relids[i], inherited[i]);
		KalixCitusLintTable(relids[i], tables[i], ReportCitus, &findings);
		KalixConstraintProblems(relids[i], columns[i], ReportConstraint, &findings);
	}
	KalixCitusLintNodes(ReportCitus, &findings);

	values[0] = TextArray(findings.objects);
	values[1] = TextArray(findings.problems);
	n = KalixExecute(&lint_query, values, NULL);
	for (uint64 i = 0; i < n; i++)
	{
		Datum		row[2];
		bool		nulls[2];

		row[0] = KalixResultDatum(i, 1, &nulls[0]);
		row[1] = KalixResultDatum(i, 2, &nulls[1]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
	}
	KalixWriteEnd();
	return (Datum) 0;
}
