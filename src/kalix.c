/*
 * kalix.c
 *		Module load: settings, cache callbacks and hooks.
 *
 * The library needs no server configuration: it is loaded by the first call
 * of one of its functions, or earlier through session_preload_libraries.
 */
#include "postgres.h"

#include "fmgr.h"

#include "kalix.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Defines the settings and installs the callbacks and hooks of the library. */
void
_PG_init(void)
{
	KalixCacheRegister();
	KalixDefineSettings();
	KalixInstallHooks();
	KalixActAsRegister();

	/*
	 * Loaded in the middle of a query, after the executor hook would have
	 * run: drop lapsed settings now, before parallel workers can copy it.
	 */
	KalixClearStaleSettings();
}
