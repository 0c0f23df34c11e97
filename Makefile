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
PKGS      = libevent libsmpp34 sqlite3 libpcre2-8 inih jansson libsystemd nettle

# pkg-config -I becomes -isystem so library headers are not held to our -Werror.
PKG_CFLAGS := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags $(PKGS) 2>/dev/null))
# mimalloc has no .pc file in Debian: it backs SQLite's allocations only.
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lmimalloc
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
DAEMON_SRC  := $(filter-out daemon/main.c,$(wildcard daemon/*.c daemon/*/*.c))
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

# Archives are made anew: a member whose source moved or went away must
# not linger and win at link time.
$(LIBPROTO): $(call obj,$(PROTO_SRC))
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^
$(LIBPARSERS): $(call obj,$(PARSERS_SRC))
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^
$(LIBDAEMON): $(call obj,$(DAEMON_SRC))
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

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
	$(call install_conf,conf/routes-cn.conf,routes-cn.conf)
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
	@$(BUILD)/smsgwd --list-keys | sed 's/^\[[^]]*\] \([a-z_]*\):.*/\1/' | \
		while read k; do \
			grep -qx ".B $$k" man/smsgwd.conf.5 || \
				{ echo "man/smsgwd.conf.5: no entry for $$k"; exit 1; }; \
		done
	@echo "man-check: $(MANPAGES) OK"

# ---- fuzzing ---------------------------------------------------------------
#
#   make fuzz-build                 build/fuzz/fuzz_* (libFuzzer, ASan+UBSan)
#   make fuzz [FUZZ_SECONDS=20]     build, then run every target that long
#                                   with its seed corpus and dictionary;
#                                   any crash fails the run
#   make fuzz-run-NAME              run one target (fuzz-run-pdu, ...)
#
# The project's sources are compiled again with clang's coverage hooks
# (fuzzer-no-link) into build/fuzz/obj; each fuzz/fuzz_NAME.c links against
# them with the libFuzzer driver. New inputs go to build/fuzz/corpus/NAME,
# never into the seed corpus in fuzz/corpus/NAME; crash reproducers go to
# build/fuzz/crashes/. docs/FUZZING.md has the rest.
FUZZ_CC      ?= clang
FUZZ_BUILD   ?= build/fuzz
FUZZ_SECONDS ?= 20
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer
FUZZ_CFLAGS   = -g -O1 $(WARN) $(FUZZ_SAN)
FUZZ_SRC     := $(wildcard fuzz/fuzz_*.c)
FUZZ_NAMES   := $(patsubst fuzz/fuzz_%.c,%,$(FUZZ_SRC))
FUZZ_BINS    := $(patsubst %,$(FUZZ_BUILD)/fuzz_%,$(FUZZ_NAMES))
FUZZ_LIB     := $(FUZZ_BUILD)/libfuzzed.a
FUZZ_LIB_OBJ := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,\
                $(PROTO_SRC) $(PARSERS_SRC) $(DAEMON_SRC))

# -max_len per target: a little over the largest input its decoder meets.
FUZZ_MAXLEN_pdu       = 2048
FUZZ_MAXLEN_charset   = 600
FUZZ_MAXLEN_reasm     = 4096
FUZZ_MAXLEN_dlr       = 512
FUZZ_MAXLEN_intent    = 1024
FUZZ_MAXLEN_templates = 2048
FUZZ_MAXLEN_conf      = 4096
FUZZ_MAXLEN_csv       = 4096
FUZZ_MAXLEN_http      = 4096
FUZZ_MAXLEN_route     = 8192
FUZZ_MAXLEN_cmpp      = 4096
FUZZ_MAXLEN_gbk       = 512
FUZZ_DICT_pdu         = fuzz/smpp.dict
FUZZ_DICT_reasm       = fuzz/smpp.dict
FUZZ_DICT_intent      = fuzz/keywords.dict
FUZZ_DICT_http        = fuzz/json.dict


.PHONY: fuzz-build $(addprefix fuzz-run-,$(FUZZ_NAMES))
fuzz-build: $(FUZZ_BINS)

# Every target runs even after one crashes; the run fails at the end.
fuzz: fuzz-build
	@bad=""; for n in $(FUZZ_NAMES); do \
		$(MAKE) --no-print-directory fuzz-run-$$n || bad="$$bad $$n"; \
	done; \
	if [ -n "$$bad" ]; then echo "fuzz: crashed:$$bad"; exit 1; fi; \
	echo "fuzz: $(FUZZ_NAMES): no crash in $(FUZZ_SECONDS) s each"

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link \
		-MMD -MP -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/fuzz/fuzz_%.o $(FUZZ_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS) -lm

# One explicit rule per target: make applies no pattern rule to a phony one.
define fuzz_run
fuzz-run-$(1): $(FUZZ_BUILD)/fuzz_$(1)
	@mkdir -p $(FUZZ_BUILD)/corpus/$(1) $(FUZZ_BUILD)/crashes
	@echo "  FUZZ    $(1) ($(FUZZ_SECONDS) s)"
	$(Q)SMSGWD_SRC=$(CURDIR) $(FUZZ_BUILD)/fuzz_$(1) \
		-max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAXLEN_$(1)) \
		$(if $(FUZZ_DICT_$(1)),-dict=$(FUZZ_DICT_$(1))) \
		-artifact_prefix=$(FUZZ_BUILD)/crashes/$(1)- -print_final_stats=1 \
		$(FUZZ_BUILD)/corpus/$(1) fuzz/corpus/$(1) \
		> $(FUZZ_BUILD)/$(1).log 2>&1 || \
		{ tail -n 60 $(FUZZ_BUILD)/$(1).log; \
		  echo "fuzz: $(1) crashed; reproducer in $(FUZZ_BUILD)/crashes/"; \
		  exit 1; }
	@grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)|cov: ' \
		$(FUZZ_BUILD)/$(1).log | tail -n 4 | sed 's/^/    /'
endef
$(foreach n,$(FUZZ_NAMES),$(eval $(call fuzz_run,$(n))))

-include $(shell find $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)

# Regenerates the codec seeds (real frames from pdu_encode) into fuzz/corpus.
.PHONY: fuzz-seeds
fuzz-seeds: $(FUZZ_LIB)
	@mkdir -p $(FUZZ_BUILD) $(addprefix fuzz/corpus/,$(FUZZ_NAMES))
	$(Q)$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -o $(FUZZ_BUILD)/gen_seeds \
		fuzz/gen_seeds.c $(FUZZ_LIB) $(PKG_LIBS) -lm
	$(Q)$(FUZZ_BUILD)/gen_seeds

# ---- bench -----------------------------------------------------------------
#
#   make bench      smsgwd vs smsc-sim --load (1M cases) and vs Kannel;
#                   figures in build/bench/results.txt, docs/BENCHMARKS.md
bench:
	@sh bench/run.sh
