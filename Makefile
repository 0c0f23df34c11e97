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
PKGS      = libevent libsmpp34 sqlite3 libpcre2-8 inih jansson

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
