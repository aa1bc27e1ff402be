# kalix_accounts: build with PGXS; `make test` and `make demo` run everything
# against a throwaway cluster (see README.md).

EXTENSION = kalix_accounts
MODULE_big = kalix_accounts
OBJS = src/kalix.o src/guc.o src/cache.o src/identity.o src/isolation.o
DATA = kalix_accounts--1.0.sql
PGFILEDESC = "kalix_accounts - multiple accounts and account isolation"

REGRESS = setup identity accounts isolation attacks
REGRESS_OPTS = --inputdir=. --load-extension=kalix_accounts
ISOLATION = revoke_membership rollback_switch
ISOLATION_OPTS = --inputdir=. --load-extension=kalix_accounts

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

.PHONY: deps test demo

# Installs what a fresh Debian/Ubuntu machine lacks (idempotent).
deps:
	scripts/install-deps.sh

# Every suite against a throwaway cluster: pg_regress, isolation specs, pgTAP.
test: deps all
	scripts/run-tests.sh

# The seed's flows walked through in psql against a throwaway cluster.
demo: deps all
	scripts/run-demo.sh
