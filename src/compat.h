/*
 * compat.h
 *		What differs between the PostgreSQL major versions kalix builds on.
 */
#ifndef KALIX_COMPAT_H
#define KALIX_COMPAT_H

#include "postgres.h"

/* PostgreSQL 16 moved the varlena macros out of postgres.h. */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/* PostgreSQL 18 replaced pg_attribute_noreturn() by pg_noreturn, written first. */
#ifndef pg_noreturn
#define pg_noreturn pg_attribute_noreturn()
#endif

#endif							/* KALIX_COMPAT_H */
