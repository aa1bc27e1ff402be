# kalix_accounts: a PGXS build.  `make test` and `make demo` install what a
# fresh machine lacks and run against a throwaway cluster (see README.md).

EXTENSION = kalix_accounts
MODULE_big = kalix_accounts
OBJS = src/kalix.o src/guc.o src/cache.o src/identity.o src/isolation.o src/npi.o src/npi_parse.o src/hierarchy.o src/write.o
DATA = $(wildcard kalix_accounts--*.sql)
PGFILEDESC = "kalix_accounts - multiple accounts and account isolation"
DOCS = README.md CHANGELOG.md

REGRESS = identity accounts isolation attacks attacks_rls team lint npi hierarchy
REGRESS_OPTS = --inputdir=. --load-extension=kalix_accounts
ISOLATION = revoke_membership rollback_switch team_copy_users team_remove_member team_last_owner hierarchy_link_race hierarchy_cycle hierarchy_unlink hierarchy_archive npi_primary
ISOLATION_OPTS = --inputdir=. --load-extension=kalix_accounts

# PGVERSION=17 picks Debian's /usr/lib/postgresql/17; PG_CONFIG names any other.
ifdef PGVERSION
PG_CONFIG ?= /usr/lib/postgresql/$(PGVERSION)/bin/pg_config
else
PG_CONFIG ?= pg_config
endif
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
else
all install installcheck:
	@echo "no usable pg_config at '$(PG_CONFIG)': install the server headers ('make deps'," \
		"with PGVERSION for another major version) or set PG_CONFIG" >&2 && false
endif
# DOCS go to share/doc/.../kalix_accounts/, not the directory every extension shares.
docmoduledir := kalix_accounts
# The major version PG_CONFIG belongs to, for install-deps and pg_virtualenv.
PGVERSION ?= $(shell $(PG_CONFIG) --version 2>/dev/null | sed -n 's/^PostgreSQL \([0-9]*\).*/\1/p')
export PGVERSION PG_CONFIG

.PHONY: deps test demo

# Installs what a fresh Debian/Ubuntu machine lacks (idempotent).
deps:
	scripts/install-deps.sh

# Every suite -- pg_regress, isolation specs, pgTAP -- in a throwaway cluster.
test: deps
	pg_virtualenv $${PGVERSION:+-v $$PGVERSION} -t scripts/run-tests.sh

# The seed's flows, walked through in psql in a throwaway cluster.
demo: deps
	pg_virtualenv $${PGVERSION:+-v $$PGVERSION} -t scripts/run-demo.sh

.PHONY: bench bench-smoke bench-size
# pgbench comparison with a hand-written WHERE, the app-setting and SQL-only
# designs in a throwaway cluster (bench/README.md); writes bench/RESULTS.md
# and bench/results.png.  SCALE=0.1
# makes it smaller, SMOKE=1 a seconds-long run that checks the designs agree.
bench:
	scripts/install-deps.sh bench
	PG_CONFIG=$(PG_CONFIG) bench/run.sh

# Seconds-long run on tiny data that fails when a design returns other rows
# than the hand-written WHERE (for CI; no chart needed).
bench-smoke:
	SMOKE=1 PG_CONFIG=$(PG_CONFIG) bench/run.sh

# Writes, first read and cache memory at 10k and 100k accounts (bench/SIZE.md);
# SIZES="10000 100000 1000000" adds 1M.
bench-size:
	scripts/install-deps.sh bench
	PG_CONFIG=$(PG_CONFIG) bench/size.sh

.PHONY: dist
# The PGXN distribution of the committed tree: kalix_accounts-VERSION.zip.
DIST_VERSION = $(shell sed -n 's/^ *"version": "\(.*\)",*$$/\1/p' META.json | head -1)
dist:
	git archive --format zip --prefix=kalix_accounts-$(DIST_VERSION)/ -o kalix_accounts-$(DIST_VERSION).zip HEAD
