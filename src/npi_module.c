/*
 * npi_module.c
 *		The module block of kalix_npi.so, the library of the extension
 *		kalix_npi (src/npi.c and src/npi_parse.c, which kalix_accounts.so
 *		links too; its own block is in kalix.c).
 */
#include "postgres.h"

#include "fmgr.h"

PG_MODULE_MAGIC;
