# nfcost build. `make` builds build/nfcost; `make check` runs every test
# (needs root: the integration tests build real namespaces and rules).
PREFIX    ?= /usr/local
DESTDIR   ?=
CC        ?= cc
CLANG     ?= clang
BPFTOOL   ?= bpftool
PYTHON    ?= /usr/bin/python3
BUILD     ?= build
# One version, from one place: the VERSION file, and the commit when built from git.
VERSION   := $(shell cat VERSION)$(shell git rev-parse --short HEAD 2>/dev/null | sed 's/^/+g/')

ARCH      := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
CFLAGS    ?= -O2 -g
EXTRA_CFLAGS ?=
# snprintf truncation is the bounded behaviour we want, so its warning is off
# (clang does not know that warning: hence the second -Wno).
NFCOST_CFLAGS := -DNFCOST_LIBNFTNL_VERSION='"$(shell pkg-config --modversion libnftnl 2>/dev/null)"' -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-format-truncation -Wno-unknown-warning-option -I$(BUILD) -Isrc \
	-DNFCOST_DATADIR='"$(PREFIX)/share/nfcost"' $(EXTRA_CFLAGS)
LDLIBS    := -lbpf -lelf -lz -lmnl -lnftnl -lnftables -liperf -ljson-c -lpcap -lgsl -lgslcblas -lcrypto -lmicrohttpd -lm
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror -I$(BUILD) -Isrc

# Sources: one folder per stage of the data flow (see docs/architecture.md).
BPF_SRCS  := $(wildcard src/*/*.bpf.c)
SKELS     := $(patsubst %.bpf.c,$(BUILD)/%.skel.h,$(notdir $(BPF_SRCS)))
SRCS      := $(filter-out %.bpf.c,$(wildcard src/*.c src/*/*.c))
OBJS      := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(SRCS))
LIB_OBJS  := $(filter-out $(BUILD)/obj/cli/main.o,$(OBJS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
# Objects that include a skeleton (found by grep, so a new one needs no edit).
# A header that includes a skeleton makes its includers skeleton users too.
SKEL_HDRS := $(shell grep -l '\.skel\.h"' $(wildcard src/*/*.h) /dev/null)
SKEL_USERS := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(shell grep -l -e '\.skel\.h"' \
	$(foreach h,$(SKEL_HDRS),-e '$(h:src/%=%)"') $(SRCS) /dev/null))

# A failed recipe leaves no half-written target behind.
.DELETE_ON_ERROR:

all: $(BUILD)/nfcost

# Changing CFLAGS, EXTRA_CFLAGS, LDFLAGS or the compiler rebuilds everything:
# the stamp is rewritten only when the flags differ from the last build's.
FLAGS_NOW := $(CC) $(CFLAGS) $(NFCOST_CFLAGS) $(LDFLAGS) $(CLANG) $(BPF_CFLAGS)
$(BUILD)/flags.stamp: FORCE
	@mkdir -p $(BUILD)
	@if [ "$$(cat $@ 2>/dev/null)" != '$(subst ','\'',$(FLAGS_NOW))' ]; then \
		printf '%s\n' '$(subst ','\'',$(FLAGS_NOW))' > $@; fi

# version.h changes only when the version does: a commit rebuilds two objects.
$(BUILD)/version.h: FORCE
	@mkdir -p $(BUILD)
	@v='#define NFCOST_VERSION "$(VERSION)"'; [ "$$(cat $@ 2>/dev/null)" = "$$v" ] || echo "$$v" > $@

$(BUILD)/obj/cli/main.o $(BUILD)/obj/cli/watch.o $(BUILD)/obj/results/results.o: $(BUILD)/version.h

$(BUILD)/vmlinux.h:
	@mkdir -p $(BUILD)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

# `bpftool gen object` strips DWARF and links, so skeletons embed a small object.
$(BUILD)/%.bpf.o: $(BUILD)/vmlinux.h $(BUILD)/flags.stamp
	$(CLANG) $(BPF_CFLAGS) -MMD -MP -MF $@.d -MT $@ -c $(filter %/$*.bpf.c,$(BPF_SRCS)) -o $@.tmp
	$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst .,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# -MMD -MP: each object depends on the headers it includes, and no more.
$(BUILD)/obj/%.o: src/%.c $(BUILD)/flags.stamp
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(NFCOST_CFLAGS) -MMD -MP -c $< -o $@

$(SKEL_USERS): $(SKELS)

$(BUILD)/libnfcost.a: $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/nfcost: $(BUILD)/obj/cli/main.o $(BUILD)/libnfcost.a
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libnfcost.a $(BUILD)/flags.stamp
	@mkdir -p $(dir $@)
	@mkdir -p $(BUILD)/obj/tests
	$(CC) $(CFLAGS) $(NFCOST_CFLAGS) -MMD -MP -MF $(BUILD)/obj/tests/$*.d -MT $@ $(LDFLAGS) -o $@ $< $(BUILD)/libnfcost.a $(LDLIBS) -lcmocka

# Unit tests of pure modules link those modules alone: proof that they need
# no libbpf, no netlink library and no kernel.
PURE_test_window   := probe/window probe/hist util/nfhook
PURE_test_rulespec := rules/rulespec util/nfhook
PURE_test_flow     := traffic/flow util/util
PURE_test_metrics  := results/metrics probe/window probe/hist util/nfhook util/util
PURE_test_rules    := rules/render rules/rulespec util/nfhook util/util
PURE_test_ruleset_text := rules/ruleset_text rules/ruleset_samples util/nfhook util/util util/error
define pure_test
$(BUILD)/tests/$(1): tests/unit/$(1).c $(patsubst %,$(BUILD)/obj/%.o,$(PURE_$(1))) $(BUILD)/flags.stamp
	@mkdir -p $(BUILD)/tests $(BUILD)/obj/tests
	$(CC) $(CFLAGS) $(NFCOST_CFLAGS) -MMD -MP -MF $(BUILD)/obj/tests/$(1).d -MT $$@ $(LDFLAGS) -o $$@ $$< $(patsubst %,$(BUILD)/obj/%.o,$(PURE_$(1))) -lcmocka -lm
endef
PURE_test_kubeproxy := rules/kubeproxy rules/sha256 util/util util/error
$(foreach t,test_window test_rulespec test_flow test_metrics test_kubeproxy test_rules test_ruleset_text,$(eval $(call pure_test,$(t))))

-include $(OBJS:.o=.d) $(patsubst $(BUILD)/tests/%,$(BUILD)/obj/tests/%.d,$(UNIT_BINS)) $(SKELS:.skel.h=.bpf.o.d)

unit: $(UNIT_BINS)

# ASan + UBSan build of the tool and unit tests in build/asan.
asan:
	$(MAKE) BUILD=build/asan CFLAGS="-O1 -g -fno-omit-frame-pointer" \
		EXTRA_CFLAGS="-fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=undefined,float-cast-overflow" \
		build/asan/nfcost $(patsubst $(BUILD)/%,build/asan/%,$(UNIT_BINS))

# Every test suite against the ASan + UBSan build (any sanitizer report
# aborts the process it is in, so the suites see it as a failure).
check-asan: deps asan
	BUILD=build/asan tests/run.sh

deps:
	@scripts/install-deps.sh

check: deps
	$(MAKE) all unit
	tests/run.sh

# The unit tests and the plot script's tests: no root, no kernel, no apt.
check-unit:
	$(MAKE) all unit
	tests/run.sh --unit

demo: deps
	$(MAKE) all
	scripts/demo.sh

BINDIR ?= $(PREFIX)/bin
install: $(BUILD)/nfcost
	install -D -m 0755 $(BUILD)/nfcost $(DESTDIR)$(BINDIR)/nfcost
	install -D -m 0755 scripts/plot_results.py $(DESTDIR)$(PREFIX)/share/nfcost/plot_results.py
	install -d $(DESTDIR)$(PREFIX)/share/man/man8
	sed 's/@VERSION@/$(VERSION)/' docs/nfcost.8 > $(DESTDIR)$(PREFIX)/share/man/man8/nfcost.8
	chmod 0644 $(DESTDIR)$(PREFIX)/share/man/man8/nfcost.8
	install -D -m 0644 completion/nfcost $(DESTDIR)$(PREFIX)/share/bash-completion/completions/nfcost

clean:
	rm -rf build

# A Debian package (debian/, debhelper 13) into build/deb/, built in a copy of
# the tree's committed files so that nothing here is touched.
deb:
	@scripts/make-deb.sh build/deb

.PHONY: all unit asan check-asan deps check check-unit demo install clean deb FORCE
.SECONDARY:

# `make vmtest`: the fentry and kprobe tracers need a kernel with ftrace direct
# calls and kprobes, so they are tested inside a qemu VM (TCG, no KVM needed)
# that boots Debian's stock kernel (linux-image-amd64) from an initramfs with
# nfcost, its libraries and tools, and tests/vmtest/guest-tests.sh.
# VMTEST_KVER picks the kernel (/boot/vmlinuz-KVER with /lib/modules/KVER);
# VMTEST_APPEND adds kernel arguments (vmtest_only=fentry runs one group);
# VMTEST_EXTRA="strace ..." packs more host programs, for debugging.
VMTEST_KVER    ?= $(shell for k in $$(ls /boot/vmlinuz-* 2>/dev/null | sed 's|.*/vmlinuz-||' | sort -V); do \
			[ -e /lib/modules/$$k/modules.dep ] && echo $$k; done | tail -1)
VMTEST_KERNEL  ?= /boot/vmlinuz-$(VMTEST_KVER)
VMTEST_TIMEOUT ?= 300
VMTEST_APPEND  ?=
VMTEST_EXTRA   ?=
VMTEST_DIR     := $(BUILD)/vmtest

# The initramfs is packed anew every time (4 s): it depends on host packages
# (busybox, the kernel's modules, the tools' libraries) that make cannot see.
vmtest: deps
	$(MAKE) $(BUILD)/nfcost $(BUILD)/tablelat-tool
	@if [ -z "$(VMTEST_KVER)" ]; then echo "vmtest: no /boot/vmlinuz-* with modules: run scripts/install-deps.sh (linux-image-amd64)" >&2; exit 1; fi
	VMTEST_EXTRA="$(VMTEST_EXTRA) $(BUILD)/tablelat-tool bpftrace" scripts/vmtest/mkinitramfs.sh $(VMTEST_KVER) $(BUILD)/nfcost \
		tests/vmtest/guest-tests.sh $(VMTEST_DIR)/initramfs.cpio.gz
	VMTEST_APPEND="$(VMTEST_APPEND)" scripts/vmtest/run-vm.sh $(VMTEST_KERNEL) \
		$(VMTEST_DIR)/initramfs.cpio.gz $(VMTEST_DIR)/guest.log $(VMTEST_TIMEOUT)

# The connection engine's and kube-proxy renderer's test driver (tests/tools).
$(BUILD)/conn-tool: tests/tools/conn-tool.c $(BUILD)/libnfcost.a $(BUILD)/flags.stamp
	$(CC) $(CFLAGS) $(NFCOST_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libnfcost.a $(LDLIBS)

# The per-table tracer's test driver (tests/tools), for the guest.
$(BUILD)/tablelat-tool: tests/tools/tablelat-tool.c $(BUILD)/libnfcost.a $(BUILD)/flags.stamp
	$(CC) $(CFLAGS) $(NFCOST_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libnfcost.a $(LDLIBS)

.PHONY: vmtest
