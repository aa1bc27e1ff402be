/*
 * tables.h
 *		The extension's tables as C sees them, and the limits every walk and
 *		check shares: one definition each.
 */
#ifndef KALIX_TABLES_H
#define KALIX_TABLES_H

/* Columns of the extension's tables, as kalix_accounts--1.0.sql creates them. */
#define Anum_accounts_id 1
#define Anum_accounts_parent_id 3
#define Anum_accounts_archived_at 8
#define Anum_logins_id 1
#define Anum_logins_db_role 4
#define Anum_memberships_account_id 1
#define Anum_memberships_login_id 2
#define Anum_memberships_role 3
#define Anum_memberships_created_at 4
#define Natts_memberships 4

/* Longest lineage the walks accept; longer ones are taken for corruption. */
#define KALIX_LINEAGE_LIMIT 1000

/* Longest account name, in characters (kalix.accounts' CHECK says the same). */
#define KALIX_NAME_MAX 200

/* How much of a name that is too long an error message quotes, in characters. */
#define KALIX_NAME_QUOTED 20

/* The white space trimmed from names and emails: E' \t\n\r\f\x0B'. */
#define KALIX_BLANKS " \t\n\r\f\v"

#endif							/* KALIX_TABLES_H */
