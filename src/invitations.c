/*
 * invitations.c
 *		Bringing a person into an account by email: invite(),
 *		accept_invitation() and revoke_invitation().
 *
 * invite() returns a one-time token: 32 bytes from pg_strong_random (256
 * bits), as URL-safe base64 without padding.  It is shown only there; the
 * database keeps its SHA-256 in kalix.invitation_tokens, a table without any
 * grant (so no role but the extension's owner and superusers reads it, and
 * kalix.invitations itself has exactly the columns SPEC lists and can be
 * granted, viewed and dumped like any other of our tables).  The hash row
 * goes when the invitation is accepted or revoked.
 *
 * Lock order, the one every write function follows: the account row FOR NO
 * KEY UPDATE first (access.c), then the invitation, then memberships.
 * accept_invitation() finds the invitation by the token's hash without a
 * lock, locks its account, and then claims it with one UPDATE whose WHERE
 * says everything that makes it usable (not accepted, not revoked, not
 * expired, the current login's email).  Of two sessions accepting one token
 * at once the second waits for the first's account lock; under READ
 * COMMITTED its UPDATE then sees the accepted row and claims nothing, under
 * REPEATABLE READ it fails with a serialization error.  Either way exactly
 * one of them uses the invitation.  Every failure to use a token raises the
 * same error (errors.c), so a token reveals nothing about itself.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "kalix.h"
#include "access.h"
#include "errors.h"
#include "accounts.h"
#include "write.h"

/* Random bytes in a token: 256 bits, twice what SPEC asks at least. */
#define TOKEN_BYTES 32

/* Characters of a token: base64url of TOKEN_BYTES without padding. */
#define TOKEN_LENGTH ((TOKEN_BYTES * 4 + 2) / 3)

/* Encodes bytes as base64url (RFC 4648 section 5) without padding. */
static char *
Base64Url(const uint8 *bytes, int len)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char	   *out = palloc((len * 4 + 2) / 3 + 1);
	char	   *p = out;

	for (int i = 0; i < len; i += 3)
	{
		uint32		chunk = (uint32) bytes[i] << 16;
		int			have = Min(len - i, 3);

		if (have > 1)
			chunk |= (uint32) bytes[i + 1] << 8;
		if (have > 2)
			chunk |= bytes[i + 2];
		for (int c = 0; c <= have; c++)
			*p++ = alphabet[(chunk >> (18 - 6 * c)) & 0x3F];
	}
	*p = '\0';
	return out;
}

/* The SHA-256 of a token's text, as a bytea: what kalix.invitation_tokens keeps. */
static bytea *
TokenHash(const char *token, size_t len)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	bytea	   *hash = palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);

	SET_VARSIZE(hash, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) token, len) < 0 ||
		pg_cryptohash_final(ctx, (uint8 *) VARDATA(hash), PG_SHA256_DIGEST_LENGTH) < 0)
		elog(ERROR, "kalix_accounts: could not compute SHA-256: %s", pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
	return hash;
}

/* A new token from the strong random source; raises when there is none. */
static char *
NewToken(void)
{
	uint8		bytes[TOKEN_BYTES];
	char	   *token;

	if (!pg_strong_random(bytes, sizeof(bytes)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random invitation token")));
	token = Base64Url(bytes, sizeof(bytes));
	explicit_bzero(bytes, sizeof(bytes));
	Assert(strlen(token) == TOKEN_LENGTH);
	return token;
}

/* True when an invitation may be valid for this long: positive and finite. */
static bool
ValidityIsUsable(Interval *valid_for)
{
	Interval	zero = {0};

#ifdef INTERVAL_NOT_FINITE
	/* PostgreSQL 17 added infinite intervals; an invitation always expires. */
	if (INTERVAL_NOT_FINITE(valid_for))
		return false;
#endif
	return DatumGetBool(DirectFunctionCall2(interval_gt, IntervalPGetDatum(valid_for),
											IntervalPGetDatum(&zero)));
}

PG_FUNCTION_INFO_V1(kalix_invite);

/*
 * SQL: kalix.invite(account, email, role, valid_for) -- admin; roles up to
 * one's own; returns the token, which is never stored.
 */
Datum
kalix_invite(PG_FUNCTION_ARGS)
{
	static KalixStatement insert = {
		"INSERT INTO kalix.invitations (account_id, email, role, invited_by, expires_at) "
		"VALUES ($1, $2, $3::kalix.account_role, kalix.current_login(), "
		" pg_catalog.now() OPERATOR(pg_catalog.+) $4) RETURNING id",
		4, {UUIDOID, TEXTOID, TEXTOID, INTERVALOID}, NULL
	};
	static KalixStatement keep_hash = {
		"INSERT INTO kalix.invitation_tokens (invitation_id, token_hash) VALUES ($1, $2)",
		2, {UUIDOID, BYTEAOID}, NULL
	};
	pg_uuid_t	account;
	char	   *email;
	KalixRole	role;
	Interval   *valid_for;
	KalixRole	own;
	char	   *token;
	pg_uuid_t	invitation;
	Datum		values[4];
	bool		isnull;
	StringInfoData detail;

	if (PG_ARGISNULL(0))
		KalixRaiseNullArgument("account");
	if (PG_ARGISNULL(1))
		KalixRaiseNullArgument("email");
	if (PG_ARGISNULL(2))
		KalixRaiseNullArgument("role");
	if (PG_ARGISNULL(3))
		KalixRaiseNullArgument("valid_for");
	account = *PG_GETARG_UUID_P(0);
	email = KalixCleanEmail(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	role = KalixRoleFromEnum(PG_GETARG_OID(2));
	valid_for = PG_GETARG_INTERVAL_P(3);
	if (!ValidityIsUsable(valid_for))
		KalixRaiseBadValidity(DatumGetCString(DirectFunctionCall1(interval_out,
																  IntervalPGetDatum(valid_for))));

	KalixWriteBegin();
	own = KalixRequireRole(&account, KALIX_ROLE_ADMIN, "invite members", KALIX_ACCESS_LOCKED);
	if (role > own)
		KalixRaiseCannotGrant(&account, role, own);
	values[0] = UUIDPGetDatum(&account);
	values[1] = CStringGetTextDatum(email);
	values[2] = CStringGetTextDatum(KalixRoleName(role));
	values[3] = IntervalPGetDatum(valid_for);
	(void) KalixExecute(&insert, values, NULL);
	invitation = *DatumGetUUIDP(KalixResultDatum(0, 1, &isnull));
	token = NewToken();
	values[0] = UUIDPGetDatum(&invitation);
	values[1] = PointerGetDatum(TokenHash(token, strlen(token)));
	(void) KalixExecute(&keep_hash, values, NULL);
	KalixJsonBegin(&detail);
	KalixJsonUuid(&detail, "invitation_id", &invitation);
	KalixJsonText(&detail, "email", email);
	KalixJsonText(&detail, "role", KalixRoleName(role));
	KalixJsonEnd(&detail);
	KalixAudit("invite", &account, detail.data);
	KalixWriteEnd();
	PG_RETURN_TEXT_P(cstring_to_text(token));
}

PG_FUNCTION_INFO_V1(kalix_accept_invitation);

/*
 * SQL: kalix.accept_invitation(token) -- the current login joins the
 * invitation's account with its role (a membership it has is kept); returns
 * the account.  One use; every failure is the same error.
 */
Datum
kalix_accept_invitation(PG_FUNCTION_ARGS)
{
	static KalixStatement find = {
		"SELECT i.id, i.account_id FROM kalix.invitation_tokens t "
		"JOIN kalix.invitations i ON i.id OPERATOR(pg_catalog.=) t.invitation_id "
		"WHERE t.token_hash OPERATOR(pg_catalog.=) $1",
		1, {BYTEAOID}, NULL
	};
	static KalixStatement lock_account = {
		"SELECT a.archived_at IS NULL FROM kalix.accounts a "
		"WHERE a.id OPERATOR(pg_catalog.=) $1 FOR NO KEY UPDATE",
		1, {UUIDOID}, NULL
	};
	static KalixStatement claim = {
		"UPDATE kalix.invitations i SET accepted_at = pg_catalog.now(), accepted_by = $2 "
		"WHERE i.id OPERATOR(pg_catalog.=) $1 "
		"AND i.accepted_at IS NULL AND i.revoked_at IS NULL "
		"AND i.expires_at OPERATOR(pg_catalog.>) pg_catalog.now() "
		"AND pg_catalog.lower(i.email) OPERATOR(pg_catalog.=) "
		" (SELECT pg_catalog.lower(l.email) FROM kalix.logins l WHERE l.id OPERATOR(pg_catalog.=) $2) "
		"RETURNING i.role::pg_catalog.text",
		2, {UUIDOID, UUIDOID}, NULL
	};
	static KalixStatement forget_hash = {
		"DELETE FROM kalix.invitation_tokens t WHERE t.invitation_id OPERATOR(pg_catalog.=) $1",
		1, {UUIDOID}, NULL
	};
	static KalixStatement join = {
		"INSERT INTO kalix.memberships (account_id, login_id, role) "
		"VALUES ($1, $2, $3::kalix.account_role) "
		"ON CONFLICT (account_id, login_id) DO NOTHING",
		3, {UUIDOID, UUIDOID, TEXTOID}, NULL
	};
	text	   *token;
	pg_uuid_t	login;
	pg_uuid_t	invitation;
	pg_uuid_t	account;
	char	   *role;
	bool		joined;
	Datum		values[3];
	bool		isnull;
	StringInfoData detail;

	if (PG_ARGISNULL(0))
		KalixRaiseNullArgument("token");
	token = PG_GETARG_TEXT_PP(0);
	KalixRequireLogin(&login);

	KalixWriteBegin();
	values[0] = PointerGetDatum(TokenHash(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token)));
	if (KalixExecute(&find, values, NULL) == 0)
		KalixRaiseInvalidInvitation();
	invitation = *DatumGetUUIDP(KalixResultDatum(0, 1, &isnull));
	account = *DatumGetUUIDP(KalixResultDatum(0, 2, &isnull));
	/* The account first, as every write function locks it. */
	values[0] = UUIDPGetDatum(&account);
	if (KalixExecute(&lock_account, values, NULL) == 0 ||
		!DatumGetBool(KalixResultDatum(0, 1, &isnull)))
		KalixRaiseInvalidInvitation();
	values[0] = UUIDPGetDatum(&invitation);
	values[1] = UUIDPGetDatum(&login);
	if (KalixExecute(&claim, values, NULL) == 0)
		KalixRaiseInvalidInvitation();
	role = TextDatumGetCString(KalixResultDatum(0, 1, &isnull));
	(void) KalixExecute(&forget_hash, values, NULL);
	values[0] = UUIDPGetDatum(&account);
	values[1] = UUIDPGetDatum(&login);
	values[2] = CStringGetTextDatum(role);
	joined = KalixExecute(&join, values, NULL) > 0;
	KalixJsonBegin(&detail);
	KalixJsonUuid(&detail, "invitation_id", &invitation);
	KalixJsonUuid(&detail, "login_id", &login);
	KalixJsonText(&detail, "role", role);
	KalixJsonText(&detail, "membership", joined ? "added" : "kept");
	KalixJsonEnd(&detail);
	KalixAudit("accept_invitation", &account, detail.data);
	KalixWriteEnd();
	return KalixUuidDatum(&account);
}

PG_FUNCTION_INFO_V1(kalix_revoke_invitation);

/* SQL: kalix.revoke_invitation(invitation) -- admin of its account; the token stops working. */
Datum
kalix_revoke_invitation(PG_FUNCTION_ARGS)
{
	static KalixStatement find = {
		"SELECT i.account_id FROM kalix.invitations i WHERE i.id OPERATOR(pg_catalog.=) $1",
		1, {UUIDOID}, NULL
	};
	static KalixStatement lock = {
		"SELECT i.accepted_at IS NOT NULL, i.revoked_at IS NOT NULL, i.email "
		"FROM kalix.invitations i WHERE i.id OPERATOR(pg_catalog.=) $1 FOR UPDATE",
		1, {UUIDOID}, NULL
	};
	static KalixStatement revoke = {
		"UPDATE kalix.invitations i SET revoked_at = pg_catalog.now() "
		"WHERE i.id OPERATOR(pg_catalog.=) $1",
		1, {UUIDOID}, NULL
	};
	static KalixStatement forget_hash = {
		"DELETE FROM kalix.invitation_tokens t WHERE t.invitation_id OPERATOR(pg_catalog.=) $1",
		1, {UUIDOID}, NULL
	};
	pg_uuid_t	invitation;
	pg_uuid_t	account;
	pg_uuid_t	login;
	char	   *email;
	Datum		values[1];
	bool		isnull;
	StringInfoData detail;

	if (PG_ARGISNULL(0))
		KalixRaiseNullArgument("invitation");
	invitation = *PG_GETARG_UUID_P(0);
	KalixRequireLogin(&login);

	KalixWriteBegin();
	values[0] = UUIDPGetDatum(&invitation);
	/* Outside its account nobody learns whether an invitation exists. */
	if (KalixExecute(&find, values, NULL) == 0)
		KalixRaiseNoSuchInvitation(&invitation);
	account = *DatumGetUUIDP(KalixResultDatum(0, 1, &isnull));
	KalixCacheBegin();
	if (KalixMemberRole(&account, &login) == KALIX_ROLE_NONE)
		KalixRaiseNoSuchInvitation(&invitation);
	(void) KalixRequireRole(&account, KALIX_ROLE_ADMIN, "manage its invitations", KALIX_ACCESS_LOCKED);
	if (KalixExecute(&lock, values, NULL) == 0)
		KalixRaiseNoSuchInvitation(&invitation);
	if (DatumGetBool(KalixResultDatum(0, 1, &isnull)))
		KalixRaiseInvitationClosed(&invitation, true);
	if (DatumGetBool(KalixResultDatum(0, 2, &isnull)))
		KalixRaiseInvitationClosed(&invitation, false);
	email = TextDatumGetCString(KalixResultDatum(0, 3, &isnull));
	(void) KalixExecute(&revoke, values, NULL);
	(void) KalixExecute(&forget_hash, values, NULL);
	KalixJsonBegin(&detail);
	KalixJsonUuid(&detail, "invitation_id", &invitation);
	KalixJsonText(&detail, "email", email);
	KalixJsonEnd(&detail);
	KalixAudit("revoke_invitation", &account, detail.data);
	KalixWriteEnd();
	PG_RETURN_VOID();
}
