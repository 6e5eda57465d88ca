# SPDX-License-Identifier: GPL-2.0
#
# iommufd-dkms entry points.
#
#   make [KVER=<release>]   build module/iommufd.ko for a kernel (default:
#                           the running one); W=1 for extra warnings
#   make check              the full test suite in QEMU guests booting the
#                           Debian 6.1 and 6.12 kernels (installs what it needs)
#   make demo               boot a guest, load the module, make a device DMA
#   make bench              map/unmap throughput against VFIO type1
#   make fuzz [FUZZ_CALLS=N] one long fuzzer run in a guest (the debug kernel
#                           if built, else 6.12); see selftests/runner/fuzz.sh
#   make install            install through DKMS for the running kernel
#   make install-system [DESTDIR=]  the files outside the module tree
#                           (modules-load.d: iommufd loads at boot)
#   make install-man [DESTDIR=]  iommufd-dkms(7) to /usr/share/man/man7
#                           (iommufdctl(8) comes with the tool:
#                           make -C tools/iommufdctl install)
#   make dist-src DESTDIR=  copy the DKMS source package to DESTDIR
#   make deb [DEB_OUT=DIR]  the Debian package iommufd-dkms_VERSION_all.deb
#                           (debian/, dh-dkms) in DEB_OUT, lintian-checked
#   make vfio-cdev [KVER=]  6.12 only: rebuild the kernel's own VFIO modules
#                           from linux-source-6.12 with the VFIO device cdev
#                           on our iommufd, into VFIO_CDEV_OUT (no install)
#   make vfio-cdev-install KVER=  the same through DKMS (vfio-cdev package,
#                           installs to updates/dkms); vfio-cdev-remove
#                           restores Debian's modules
#   make vfio-cdev-dist DESTDIR=  copy vfio-cdev's DKMS source to DESTDIR
#   make clean

KVER ?= $(shell uname -r)
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)

all: module

module:
	$(MAKE) -C module KVER=$(KVER)

check:
	bash selftests/runner/check.sh

demo:
	bash selftests/runner/demo.sh

bench:
	bash selftests/runner/bench.sh

FUZZ_CALLS ?= 10000000
fuzz:
	FUZZ_CALLS=$(FUZZ_CALLS) bash selftests/runner/fuzz.sh

# What DKMS needs to build the module, and nothing else.
DIST_FILES := dkms.conf LICENSE \
	$(wildcard module/*.c module/*.h module/vfio/*.c module/vfio/*.h) \
	module/Kbuild module/Makefile \
	$(wildcard module/compat/*.sh module/compat/*.h module/compat/*.c) \
	$(wildcard module/compat/probes/*.c) \
	module/compat/exports.list \
	$(wildcard uapi/linux/*.h)

dist-src:
	@test -n "$(DESTDIR)" || { echo "dist-src: set DESTDIR" >&2; exit 1; }
	@for f in $(filter-out module/compat_autoconf.h,$(DIST_FILES)); do \
		install -D -m 644 $$f $(DESTDIR)/$$f || exit 1; \
	done
	@chmod 755 $(DESTDIR)/module/compat/configure.sh

DEB_OUT ?= selftests/build/deb
deb:
	bash scripts/build-deb.sh $(DEB_OUT)

install:
	bash scripts/dkms-install.sh $(KVER)

# What a machine needs beside the modules; make install runs this, the
# Debian package ships the same files.
install-system:
	install -D -m 644 system/modules-load.d/iommufd.conf \
		$(DESTDIR)/usr/lib/modules-load.d/iommufd.conf

# The package's manual page; the tool's is installed with the tool.
install-man:
	install -D -m 644 man/iommufd-dkms.7 \
		$(DESTDIR)/usr/share/man/man7/iommufd-dkms.7

# The optional package (vfio-cdev/): built from the kernel's source
# package at build time, nothing of that source is in this tree.
VFIO_CDEV_OUT ?= selftests/build/vfio-cdev/$(KVER)
vfio-cdev:
	bash vfio-cdev/build.sh -k $(KVER) -o $(VFIO_CDEV_OUT)

vfio-cdev-install:
	bash scripts/vfio-cdev-install.sh install $(KVER)

vfio-cdev-remove:
	bash scripts/vfio-cdev-install.sh remove

vfio-cdev-dist:
	@test -n "$(DESTDIR)" || { echo "vfio-cdev-dist: set DESTDIR" >&2; exit 1; }
	install -D -m 644 vfio-cdev/dkms.conf $(DESTDIR)/dkms.conf
	install -D -m 644 vfio-cdev/config.overlay $(DESTDIR)/config.overlay
	install -D -m 755 vfio-cdev/build.sh $(DESTDIR)/build.sh
	install -D -m 644 LICENSE $(DESTDIR)/LICENSE

clean:
	-$(MAKE) -C module clean KVER=$(KVER)
	rm -rf selftests/build

.PHONY: all module check demo bench fuzz dist-src deb install install-system install-man \
	vfio-cdev vfio-cdev-install vfio-cdev-remove vfio-cdev-dist clean
