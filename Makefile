# tokenportal: a plain Makefile (GNU make).  `make` builds everything,
# `make test` installs missing Debian packages, builds and runs every test,
# `make demo` brings the demo portal up on http://127.0.0.1:8080.

CC      ?= cc
PREFIX  ?= /usr/local
BINDIR   = $(PREFIX)/bin
SBINDIR  = $(PREFIX)/sbin
DATADIR  = $(PREFIX)/share/tokenportal
SYSCONFDIR ?= /etc/tokenportal
B       ?= build

CFLAGS  ?= -O2 -g
WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wcast-qual -Wformat=2
ifeq ($(CI),true)
WARN    += -Werror
endif
# ClearSilver ships no pkg-config file (STACK.md); link order matters.
CS_CFLAGS = -I/usr/include/ClearSilver
CS_LIBS   = -lneo_cgi -lneo_cs -lneo_utl -lz
PKGS      = fcgi ldap libqrencode openssl sqlite3 libcurl
# Recursively expanded on purpose: pkg-config runs only when something is
# compiled, i.e. after `make test` has installed the packages.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
ALL_CFLAGS = -std=gnu11 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIC \
             $(WARN) $(CFLAGS) -Iauthcore -Iportal $(CS_CFLAGS) $(PKG_CFLAGS)
LDLIBS_ALL = $(CS_LIBS) $(PKG_LIBS) -lz

AUTHCORE_SRC = $(wildcard authcore/*.c)
PORTAL_SRC   = $(filter-out portal/main.c,$(wildcard portal/*.c))
UNIT_SRC     = $(wildcard tests/unit/test_*.c)

AUTHCORE_OBJ = $(AUTHCORE_SRC:%.c=$(B)/%.o)
PORTAL_OBJ   = $(PORTAL_SRC:%.c=$(B)/%.o)
UNIT_BIN     = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
# A program is built once its main source exists, so the tree builds at
# every step while modules land one by one.
PROGRAMS     = $(if $(wildcard authcore/cli/tokenctl.c),$(B)/tokenctl) \
               $(if $(wildcard authcore/cli/otpcheck.c),$(B)/otpcheck) \
               $(if $(wildcard portal/main.c),$(B)/tokenportal)

.PHONY: all test check unit deps demo install lint clean
# Keep test objects: they are intermediate files of a pattern rule.
.SECONDARY:
all: $(PROGRAMS) $(UNIT_BIN)

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libauthcore.a: $(AUTHCORE_OBJ)
	@mkdir -p $(@D)
	@rm -f $@
	ar rcs $@ $^

$(B)/libportal.a: $(PORTAL_OBJ)
	@mkdir -p $(@D)
	@rm -f $@
	ar rcs $@ $^

$(B)/tokenctl: $(B)/authcore/cli/tokenctl.o $(B)/libauthcore.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_ALL)

$(B)/otpcheck: $(B)/authcore/cli/otpcheck.o $(B)/libauthcore.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_ALL)

$(B)/tokenportal: $(B)/portal/main.o $(B)/libportal.a $(B)/libauthcore.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_ALL)

$(B)/tests/%: $(B)/tests/unit/%.o $(B)/libportal.a $(B)/libauthcore.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_ALL) $(shell pkg-config --libs cmocka)

# The test target first makes sure the machine has what it needs, then
# re-enters make so that pkg-config sees the freshly installed packages.
test:
	./tests/install-deps.sh
	$(MAKE) all
	./tests/run.sh $(B)

check: all
	./tests/run.sh $(B)

unit: all
	./tests/run.sh $(B) unit

demo:
	./tests/install-deps.sh
	$(MAKE) all
	python3 conf/demo/demo.py --build $(B)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(DATADIR)/templates \
	    $(DESTDIR)$(DATADIR)/static $(DESTDIR)$(SYSCONFDIR)
	install -m 0755 $(B)/tokenctl $(B)/otpcheck $(DESTDIR)$(BINDIR)/
	install -m 0755 $(B)/tokenportal $(DESTDIR)$(SBINDIR)/
	cp -R templates/. $(DESTDIR)$(DATADIR)/templates/
	cp -R static/. $(DESTDIR)$(DATADIR)/static/
	install -m 0640 conf/tokenportal.hdf.example $(DESTDIR)$(SYSCONFDIR)/tokenportal.hdf.example

# Banned functions (STYLE.md 9) and a static analysis pass.  Every source
# the build globs is searched, committed or not.
lint:
	@if grep -nE '\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|gets)[[:space:]]*\(' \
	    $$(find authcore portal tests/unit -name '*.[ch]'); then \
	    echo "lint: banned function used (STYLE.md 9)"; exit 1; fi
	@if command -v cppcheck >/dev/null; then \
	    cppcheck --quiet --error-exitcode=1 --std=c11 --inline-suppr \
	    --suppress=missingIncludeSystem -Iauthcore -Iportal authcore portal; fi
	@echo "lint: ok"

clean:
	rm -rf $(B)

-include $(AUTHCORE_OBJ:.o=.d) $(PORTAL_OBJ:.o=.d) $(B)/portal/main.d \
         $(B)/authcore/cli/tokenctl.d $(B)/authcore/cli/otpcheck.d \
         $(UNIT_SRC:%.c=$(B)/%.d)
