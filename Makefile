# kalix_accounts: a PGXS build.  `make test` and `make demo` install what a
# fresh machine lacks and run against a throwaway cluster (see README.md).

EXTENSION = kalix_accounts kalix_npi
MODULE_big = kalix_accounts
# One line per concern, so that additions merge cleanly.
OBJS = src/kalix.o src/uuid.o src/guc.o src/act_as.o src/cache.o src/invalidate.o src/identity.o src/write.o
OBJS += src/errors.o src/access.o
OBJS += src/accounts.o src/members.o src/tree.o src/hierarchy.o src/unarchive.o src/billing.o
OBJS += src/invitations.o src/logins.o
OBJS += src/isolation.o src/lint.o src/citus.o
OBJS += src/account_npis.o src/npi.o src/npi_parse.o
OBJS += src/reference.o src/visibility.o
DATA = $(wildcard kalix_accounts--*.sql) kalix_accounts--1.0.control $(wildcard kalix_npi--*.sql)
PGFILEDESC = "kalix_accounts - multiple accounts and account isolation"
DOCS = README.md CHANGELOG.md

REGRESS = identity accounts isolation attacks attacks_identity attacks_rls team lint
REGRESS += kalix_npi npi hierarchy isolation_attacks install errors team_lifecycle
REGRESS += reference visibility cache act_as citus architecture copy_users
REGRESS_OPTS = --inputdir=. --load-extension=kalix_npi --load-extension=kalix_accounts
ISOLATION = revoke_membership revoke_recheck rollback_switch
ISOLATION += team_copy_users team_remove_member team_last_owner
ISOLATION += hierarchy_link_race hierarchy_cycle hierarchy_unlink hierarchy_archive hierarchy_disjoint
ISOLATION += npi_primary invitation_accept_race unarchive_race act_as_revoke
ISOLATION += cache_targeted cache_pairs cache_subtree copy_users_race create_child_login_race
ISOLATION_OPTS = --inputdir=. --load-extension=kalix_npi --load-extension=kalix_accounts

# The shared fixture (sql/fixture.sql) runs first and the check that nothing
# was left behind (sql/leftovers.sql) last, whatever the REGRESS lines add.
REGRESS := fixture $(filter-out fixture leftovers,$(REGRESS)) leftovers

# PGVERSION=17 picks Debian's /usr/lib/postgresql/17; PG_CONFIG names any other.
ifdef PGVERSION
PG_CONFIG ?= /usr/lib/postgresql/$(PGVERSION)/bin/pg_config
else
PG_CONFIG ?= pg_config
endif
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
# kalix_npi, the npi type's extension, has its own library: PGXS builds one
# MODULE_big, so kalix_npi.so gets explicit rules below.  It links the same
# objects that kalix_accounts.so keeps for the kalix.npi of 1.0 databases,
# plus its own module block.
NPI_OBJS = src/npi_module.o src/npi.o src/npi_parse.o
EXTRA_CLEAN = kalix_npi$(DLSUFFIX) src/npi_module.o src/npi_module.bc
ifneq ($(PGXS),)
include $(PGXS)

# PGXS tracks no header dependencies (Debian's server is built without
# --enable-depend): every object is rebuilt when any of our headers changes,
# lest an object keep an old struct layout that the others no longer share.
$(OBJS) $(NPI_OBJS): $(wildcard src/*.h)

all: kalix_npi$(DLSUFFIX)
ifeq ($(with_llvm), yes)
all: src/npi_module.bc
endif
kalix_npi$(DLSUFFIX): $(NPI_OBJS)
	$(CC) $(CFLAGS) -shared -o $@ $(NPI_OBJS) $(LDFLAGS) $(LDFLAGS_SL)

install: install-kalix-npi
install-kalix-npi: kalix_npi$(DLSUFFIX) installdirs
	$(INSTALL_SHLIB) kalix_npi$(DLSUFFIX) '$(DESTDIR)$(pkglibdir)/'
ifeq ($(with_llvm), yes)
	$(call install_llvm_module,kalix_npi,$(NPI_OBJS))
endif

uninstall: uninstall-kalix-npi
uninstall-kalix-npi:
	rm -f '$(DESTDIR)$(pkglibdir)/kalix_npi$(DLSUFFIX)'
ifeq ($(with_llvm), yes)
	$(call uninstall_llvm_module,kalix_npi)
endif
.PHONY: install-kalix-npi uninstall-kalix-npi
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

# The product's flows (examples/demo.sql) walked through in psql in a throwaway
# cluster; errors print with their DETAIL and HINT.
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
