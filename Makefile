# smsgwd — SMS gateway daemon. Plain GNU make; libraries found with pkg-config.
#
#   make            build/smsgwd, build/smsc-sim (optimised, warnings are errors)
#   make test       install missing Debian packages, build with ASan+UBSan into
#                   build/asan, run every unit and integration test under prove
#   make run        demo: smsc-sim in the foreground, smsgwd behind it
#   make deps       install missing Debian packages (apt-get, needs root)

BUILD    ?= build
CC       ?= cc
SAN      ?= 0
PKGS      = libevent libsmpp34 sqlite3 libpcre2-8 inih jansson libsystemd

# pkg-config -I becomes -isystem so library headers are not held to our -Werror.
PKG_CFLAGS := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags $(PKGS) 2>/dev/null))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
WARN      = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral -Wvla \
            -Wpointer-arith -Wcast-qual
VERSION  := 0.1.0
CPPFLAGS += -std=c11 -D_GNU_SOURCE -DSMSGWD_VERSION=\"$(VERSION)\" -I. $(PKG_CFLAGS)
ifeq ($(SAN),1)
SANFLAGS  = -fsanitize=address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer
endif
ALL_CFLAGS = $(CFLAGS) $(WARN) $(SANFLAGS) -MMD -MP
LDFLAGS  += $(SANFLAGS)
LDLIBS    = $(PKG_LIBS) -lm

PROTO_SRC   := $(wildcard proto/*.c)
PARSERS_SRC := $(wildcard parsers/*.c)
DAEMON_SRC  := $(filter-out daemon/main.c,$(wildcard daemon/*.c))
SIM_SRC     := $(wildcard tools/sim/*.c)
CTL_SRC     := $(wildcard tools/ctl/*.c)
UNIT_SRC    := $(wildcard tests/unit/test_*.c)

# V=1 shows full command lines.
ifeq ($(V),1)
Q =
else
Q = @
endif

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBPROTO   = $(BUILD)/libproto.a
LIBPARSERS = $(BUILD)/libparsers.a
LIBDAEMON  = $(BUILD)/libsmsgwd.a
LIBS_ALL   = $(LIBDAEMON) $(if $(PARSERS_SRC),$(LIBPARSERS)) $(LIBPROTO)
UNIT_BINS  = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.PHONY: all deps test check run clean bench fuzz
.SECONDARY:
all: $(BUILD)/smsgwd $(BUILD)/smsc-sim $(if $(CTL_SRC),$(BUILD)/smsgwctl)

deps:
	@tools/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(LIBPROTO): $(call obj,$(PROTO_SRC))
	@mkdir -p $(dir $@)
	$(Q)$(AR) rcs $@ $^
$(LIBPARSERS): $(call obj,$(PARSERS_SRC))
	@mkdir -p $(dir $@)
	$(Q)$(AR) rcs $@ $^
$(LIBDAEMON): $(call obj,$(DAEMON_SRC))
	@mkdir -p $(dir $@)
	$(Q)$(AR) rcs $@ $^

$(BUILD)/smsgwd: $(call obj,daemon/main.c) $(LIBS_ALL)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/smsc-sim: $(call obj,$(SIM_SRC)) $(LIBPROTO)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/smsgwctl: $(call obj,$(CTL_SRC)) $(LIBS_ALL)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(call obj,tests/unit/%.c) $(LIBS_ALL)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CMOCKA_LIBS)

# The README's test command. Installs what is missing, then re-reads this file
# in a sub-make so pkg-config sees the freshly installed libraries.
test: deps
	@$(MAKE) --no-print-directory SAN=1 OPT=-O1 BUILD=build/asan check

# Build and run every test against the binaries in $(BUILD). prove is the
# runner: cmocka speaks TAP, the integration tests are Perl Test::More.
check: all $(UNIT_BINS)
	CMOCKA_MESSAGE_OUTPUT=TAP SMSGWD_BUILD=$(abspath $(BUILD)) \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	prove -f --timer --exec '' $(UNIT_BINS) $(sort $(wildcard tests/integration/*.t))

run: deps
	@$(MAKE) --no-print-directory all
	@tools/run-demo.sh $(BUILD)

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- install ---------------------------------------------------------------
#
#   make install [PREFIX=/usr/local] [DESTDIR=]   binaries, config, unit, man
#   make uninstall                                the same, less config and data
#   make man-check                                man pages: groff warnings, keys
#
# smsgwd and smsgwctl go to $(PREFIX)/sbin: both are for the administrator
# (smsgwctl writes the service's database; man section 8). smsc-sim is a
# test tool and is not installed. PREFIX=/usr puts the config in /etc and
# the unit in /lib/systemd/system (Debian's places); any other PREFIX keeps
# everything under it. The database is always /var/lib/smsgwd
# (StateDirectory= in the unit).
PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
MANDIR      ?= $(PREFIX)/share/man
ifeq ($(PREFIX),/usr)
SYSCONFDIR  ?= /etc
UNITDIR     ?= /lib/systemd/system
else
SYSCONFDIR  ?= $(PREFIX)/etc
UNITDIR     ?= $(PREFIX)/lib/systemd/system
endif
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
CONFDIR      = $(SYSCONFDIR)/smsgwd
MANPAGES     = man/smsgwd.8 man/smsgwctl.8 man/smsgwd.conf.5
INSTALL_GEN  = $(BUILD)/install

# $(call install_conf,SRC,NAME): an operator's edited file is never
# overwritten: when NAME exists and differs, it stays and SRC goes beside
# it as NAME.dist.
define install_conf
	@f='$(DESTDIR)$(CONFDIR)/$(2)'; \
	if [ -e "$$f" ] && ! cmp -s '$(1)' "$$f"; then \
		install -m 0644 '$(1)' "$$f.dist"; \
		echo "install: $$f has local changes: kept; the new version is $$f.dist"; \
	else \
		install -m 0644 '$(1)' "$$f"; \
	fi
endef

.PHONY: install uninstall man-check
install: all
	@mkdir -p $(INSTALL_GEN)
	sed -e 's|/usr/sbin/|$(SBINDIR)/|g' -e 's|/etc/smsgwd|$(CONFDIR)|g' \
		systemd/smsgwd.service > $(INSTALL_GEN)/smsgwd.service
	sed -e 's|/etc/smsgwd|$(CONFDIR)|g' \
		conf/smsgwd.conf.install > $(INSTALL_GEN)/smsgwd.conf
	install -D -m 0755 $(BUILD)/smsgwd $(DESTDIR)$(SBINDIR)/smsgwd
	install -D -m 0755 $(BUILD)/smsgwctl $(DESTDIR)$(SBINDIR)/smsgwctl
	install -D -m 0644 $(INSTALL_GEN)/smsgwd.service $(DESTDIR)$(UNITDIR)/smsgwd.service
	install -D -m 0644 systemd/smsgwd.sysusers $(DESTDIR)$(SYSUSERSDIR)/smsgwd.conf
	install -D -m 0644 man/smsgwd.8 $(DESTDIR)$(MANDIR)/man8/smsgwd.8
	install -D -m 0644 man/smsgwctl.8 $(DESTDIR)$(MANDIR)/man8/smsgwctl.8
	install -D -m 0644 man/smsgwd.conf.5 $(DESTDIR)$(MANDIR)/man5/smsgwd.conf.5
	install -d -m 0755 $(DESTDIR)$(CONFDIR)
	$(call install_conf,$(INSTALL_GEN)/smsgwd.conf,smsgwd.conf)
	$(call install_conf,conf/patterns.conf,patterns.conf)
	$(call install_conf,conf/templates.conf,templates.conf)
	@# A real install (no DESTDIR) creates the service's user now; a
	@# package does it from sysusers.d in its postinst.
	@if [ -z '$(DESTDIR)' ] && command -v systemd-sysusers >/dev/null; then \
		echo "systemd-sysusers $(SYSUSERSDIR)/smsgwd.conf"; \
		systemd-sysusers $(SYSUSERSDIR)/smsgwd.conf; \
	fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/smsgwd $(DESTDIR)$(SBINDIR)/smsgwctl \
		$(DESTDIR)$(UNITDIR)/smsgwd.service \
		$(DESTDIR)$(SYSUSERSDIR)/smsgwd.conf \
		$(DESTDIR)$(MANDIR)/man8/smsgwd.8 \
		$(DESTDIR)$(MANDIR)/man8/smsgwctl.8 \
		$(DESTDIR)$(MANDIR)/man5/smsgwd.conf.5
	@echo "uninstall: $(CONFDIR) and /var/lib/smsgwd are left as they are"

# Every page renders without a groff warning, and every key the binary
# knows has its entry in smsgwd.conf(5).
man-check: $(BUILD)/smsgwd
	@for m in $(MANPAGES); do \
		w=$$(groff -ww -z -mandoc $$m 2>&1); \
		[ -z "$$w" ] || { echo "$$m:"; echo "$$w"; exit 1; }; \
	done
	@$(BUILD)/smsgwd --list-keys | sed 's/^\[[a-z_]*\] \([a-z_]*\):.*/\1/' | \
		while read k; do \
			grep -qx ".B $$k" man/smsgwd.conf.5 || \
				{ echo "man/smsgwd.conf.5: no entry for $$k"; exit 1; }; \
		done
	@echo "man-check: $(MANPAGES) OK"
