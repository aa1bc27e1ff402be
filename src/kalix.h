/*
 * kalix.h
 *		Shared declarations of the kalix_accounts extension.
 */
#ifndef KALIX_H
#define KALIX_H

#include "postgres.h"

#include "compat.h"
#include "tables.h"

#include "executor/execdesc.h"
#include "storage/proc.h"
#include "utils/uuid.h"

/* Roles of kalix.account_role, in the enum's sort order. */
typedef enum KalixRole
{
	KALIX_ROLE_NONE = -1,
	KALIX_ROLE_MEMBER = 0,
	KALIX_ROLE_ADMIN = 1,
	KALIX_ROLE_OWNER = 2
} KalixRole;

/* Values of kalix.account_scope. */
typedef enum KalixAccountScope
{
	KALIX_SCOPE_SESSION,
	KALIX_SCOPE_TRANSACTION
} KalixAccountScope;

/*
 * A lineage computed by hierarchy.c: [self, parent, ..., payer], with what
 * it depends on (cache.c).  One allocation of the cache's memory.
 */
typedef struct KalixLineage
{
	int			len;
	int			stop;			/* bucket of the ancestor that ended it, or -1 */
	uint64		sum;			/* sum of its dependencies' counters */
	uint64		checked;		/* kalix_cache_generation when last checked */
	struct KalixLineageIndex *index;	/* sorted, for long lineages */
	pg_uuid_t	ids[FLEXIBLE_ARRAY_MEMBER];
} KalixLineage;

/*
 * One account as the backend cache knows it: a record that stays where it
 * is until its generation is freed (cache.c), 48 bytes.
 */
typedef struct KalixAccount
{
	pg_uuid_t	id;				/* key */
	pg_uuid_t	parent_id;
	uint32		stamp;			/* counter of its bucket when read (cache.c) */
	bool		exists;			/* false: a cached "no such account" */
	bool		archived;
	bool		has_parent;
	KalixLineage *lineage;		/* NULL: not computed yet (hierarchy.c) */
} KalixAccount;

/*
 * The parsed form of kalix.current_account or kalix.current_login, or of the
 * value kalix.act_as chose for it.
 */
typedef struct KalixUuidSetting
{
	bool		set;			/* false for '' */
	pg_uuid_t	id;
	LocalTransactionId lxid;	/* transaction that chose the value */
	char		text[UUID_LEN * 2 + 5]; /* canonical form; '' for kalix.act_as's */
	/* What a check against the tables found, valid in that transaction at that cache generation */
	LocalTransactionId checked_lxid;
	uint64		checked_generation;
	pg_uuid_t	checked_login;	/* an account: the login it was checked for */
	KalixRole	checked_role;	/* an account: that login's role there */
} KalixUuidSetting;

/* The local transaction id of the running transaction. */
#if PG_VERSION_NUM >= 170000
#define KalixCurrentLxid() (MyProc ? MyProc->vxid.lxid : InvalidLocalTransactionId)
#else
#define KalixCurrentLxid() (MyProc ? MyProc->lxid : InvalidLocalTransactionId)
#endif

/* uuid.c: the bottom layer */
extern bool KalixParseUuid(const char *text, pg_uuid_t *uuid);
extern char *KalixUuidToCString(const pg_uuid_t *uuid);
extern Datum KalixUuidDatum(const pg_uuid_t *uuid);

/*
 * Compares two UUIDs (pg_uuid_t *) the way uuid's btree operator class does,
 * bytewise; a qsort and bsearch comparator as well.
 */
static inline int
KalixUuidCompare(const void *a, const void *b)
{
	return memcmp(((const pg_uuid_t *) a)->data, ((const pg_uuid_t *) b)->data, UUID_LEN);
}

/*
 * Targeted invalidation (cache.c receives, invalidate.c sends): a key of one
 * of these kinds hashes to a bucket, and a message for the bucket travels as
 * a relcache invalidation of an OID no relation has (cache.c's top comment).
 */
typedef enum KalixInvalKind
{
	KALIX_INVAL_ACCOUNT,		/* an account row, and every lineage through it */
	KALIX_INVAL_CHILDREN,		/* the children of an account */
	KALIX_INVAL_LOGIN,			/* a login row, and all that is known of it */
	KALIX_INVAL_ROLE,			/* which login a role is (role-syscache hash) */
	KALIX_INVAL_MEMBERS,		/* the list of a login's memberships */
	KALIX_INVAL_MEMBERSHIP		/* one membership (KalixMembershipHash) */
} KalixInvalKind;

#define KALIX_INVAL_BUCKETS 4096
#define KALIX_INVAL_OID_BASE ((Oid) 0xFFF00000)
#define KALIX_INVAL_OID_ALL (KALIX_INVAL_OID_BASE + KALIX_INVAL_BUCKETS)

/* invalidate.c: the messages a change sends (uses cache.c) */
extern void KalixInvalidateMembership(const pg_uuid_t *account, const pg_uuid_t *login);

/* cache.c: the cached tables, their freshness rule, and cached access (uses uuid.c) */
extern uint64 kalix_cache_generation;
extern int	KalixInvalBucket(KalixInvalKind kind, uint32 hashvalue);
extern uint32 KalixUuidHash(const pg_uuid_t *id);
extern uint32 KalixMembershipHash(const pg_uuid_t *account, const pg_uuid_t *login);
extern void KalixStampLineage(KalixLineage *lineage, const pg_uuid_t *stop, uint64 generation);
extern void KalixCacheRegister(void);
extern void KalixCacheBegin(void);
extern bool KalixInstalled(void);
extern Oid	KalixRoleEnumValue(KalixRole role);
extern void *KalixCacheAlloc(Size size);
extern KalixAccount *KalixLookupAccount(const pg_uuid_t *id);
extern const pg_uuid_t *KalixLookupChildren(const pg_uuid_t *parent, int *count);
extern bool KalixLoginForRole(Oid roleid, pg_uuid_t *login);
extern bool KalixLoginExists(const pg_uuid_t *login);
extern KalixRole KalixMemberRole(const pg_uuid_t *account, const pg_uuid_t *login);
typedef void (*KalixMembershipVisitor) (const pg_uuid_t *account, const pg_uuid_t *login,
										KalixRole role, void *arg);
extern void KalixScanMemberships(const pg_uuid_t *key, bool by_login,
								 KalixMembershipVisitor visit, void *arg);
extern KalixRole KalixCheckAccess(const pg_uuid_t *account, const pg_uuid_t *login,
								  bool raise);
extern KalixRole KalixCachedAccess(const pg_uuid_t *account, const pg_uuid_t *login,
								   bool raise);

/* guc.c: the settings and the login they name (uses cache.c) */
extern int	kalix_max_depth;
extern int	kalix_account_scope;
extern uint64 kalix_setting_generation;
extern void KalixDefineSettings(void);
extern bool KalixSettingAccount(pg_uuid_t *account);
extern bool KalixCurrentLogin(pg_uuid_t *login);
extern void KalixClearStaleSettings(void);
extern KalixRole KalixSettingCheckedRole(const pg_uuid_t *login);
extern const void *KalixSettingToken(bool login);

/* act_as.c: kalix.act_as, a transaction's identity laid over the settings (uses guc.c, cache.c) */
extern void KalixActAsRegister(void);
extern const KalixUuidSetting *KalixActAsValue(bool login, const void *token);
extern void KalixActAsAssigned(bool login, const void *old_token);
extern void KalixActAsForWorkers(QueryDesc *queryDesc);

/* identity.c: the identity of the running statement (uses guc.c, cache.c) */
extern void KalixInstallHooks(void);
extern bool KalixStatementLogin(pg_uuid_t *login);
extern bool KalixCurrentAccount(pg_uuid_t *account);

#endif							/* KALIX_H */
