/*
 * citus.h
 *		kalix_accounts on Citus: the local copies of the kalix tables, the
 *		layout of a distributed table's policies, the identity on the workers.
 *		Citus is found at run time through its catalog; nothing links to it.
 */
#ifndef KALIX_CITUS_H
#define KALIX_CITUS_H

#include "postgres.h"

extern bool KalixCitusHasShards(Oid relid);
extern Oid	KalixCitusLocalTable(Oid relid);
extern char *KalixCitusLocalName(Oid relid, const char *name);
extern void KalixCitusPropagateIdentity(void);
extern void KalixCitusLintTable(Oid relid, const char *table,
								void (*report) (const char *object, const char *problem,
												void *arg),
								void *arg);
extern void KalixCitusLintNodes(void (*report) (const char *object, const char *problem,
												void *arg),
								void *arg);

#endif							/* KALIX_CITUS_H */
