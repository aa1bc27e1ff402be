/*
 * isolation.h
 *		The policies that isolate an application table, defined once: used
 *		by enable_isolation to create them and by lint to check them.
 */
#ifndef KALIX_ISOLATION_H
#define KALIX_ISOLATION_H

#include "postgres.h"

/* The expressions a kalix policy is made of. */
typedef enum KalixPolicyExpr
{
	KALIX_EXPR_NONE,			/* no such clause */
	KALIX_EXPR_PERMIT,			/* true, but tied to the extension */
	KALIX_EXPR_MINE,			/* the row is in the current account */
	KALIX_EXPR_WRITE,			/* MINE, raising "no current account" when none */
	KALIX_EXPR_VISIBLE			/* MINE, or in the lineage when inherited */
} KalixPolicyExpr;

/* One policy enable_isolation creates on every isolated table. */
typedef struct KalixPolicyDef
{
	const char *name;
	char		cmd;			/* pg_policy.polcmd */
	bool		permissive;
	KalixPolicyExpr using_expr;
	KalixPolicyExpr check_expr;
} KalixPolicyDef;

extern const KalixPolicyDef kalix_policy_defs[];
extern const int kalix_policy_def_count;

extern char *KalixPolicyExprText(KalixPolicyExpr expr, const char *column,
								 bool inherited, bool deparsed);
extern const char *KalixPolicyCommand(char cmd);
extern char *KalixQualifiedRelName(Oid relid);
extern bool KalixPolicyInLayout(const KalixPolicyDef *def, bool shards, bool *permissive);
extern bool KalixShardLayout(Oid relid);
extern void KalixUseShardLayout(Oid relid, const char *column, bool inherited);
extern void KalixCheckTableOwner(Oid relid);
extern void KalixConstraintProblems(Oid relid, const char *column,
									void (*report) (const char *what, const char *why,
													void *arg),
									void *arg);

#endif							/* KALIX_ISOLATION_H */
