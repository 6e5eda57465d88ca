// SPDX-License-Identifier: GPL-2.0
/*
 * Systematic fault injection over the paths upstream's iommufd_fail_nth
 * cannot reach: the VFIO backend with the edu device (link, attach,
 * replace, detach, HWPT_ALLOC), the VFIO type1 ioctls on a container and
 * on /dev/iommu, IOMMU_IOAS_MAP_FILE and IOMMU_IOAS_CHANGE_PROCESS.
 *
 * The kernel's fail-nth (/proc/self/task/TID/fail-nth, see
 * Documentation/fault-injection/fault-injection.rst): writing N makes the
 * N-th fault-injection site the task passes fail - a slab allocation
 * (failslab), a page allocation (fail_page_alloc) or a user copy
 * (fail_usercopy) - and reading back 0 says it fired.  Each sweep below
 * picks one call, builds the state it starts from without injection, and
 * for N = 1, 2, ... fails its N-th site, until the call gets through
 * without reaching N sites.  After every injected failure:
 *  - the call failed with ENOMEM (an allocation) or EFAULT (a user copy),
 *    or absorbed the failure and succeeded;
 *  - it took effect entirely or not at all, and "entirely" only where the
 *    failure can come after the effect (copying a reply back, EFAULT);
 *  - VmPin/VmLck are where that outcome puts them (the charge of a
 *    reference run without injection), and where the sweep is run by an
 *    unprivileged user under a RLIMIT_MEMLOCK of exactly what the call
 *    pins, the user's locked_vm too: the next call would not fit under
 *    the limit if the failed one had kept part of its charge;
 *  - the next call works, and its effect is checked (DMA of the edu device
 *    lands where it should, the mock domain maps what it should);
 *  - undoing it brings VmPin/VmLck back to the case's start.
 * The kernel log is judged by the guest runner (no WARNING, BUG, KASAN,
 * lockdep report...).  A sweep prints its figures; the suite ends with
 * the totals: cases, injected failures.
 *
 * On a kernel without fault injection (Debian's production kernels) the
 * suite prints one SKIP with the reason.  Sweeps that need the edu device,
 * iommufd_vfio, its type1 service or self-test mode skip without them.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <linux/vfio.h>
#include <linux/iommufd.h>
#include <linux/iommufd_dkms.h>
#include <linux/iommufd_test.h>

#include "iommufd_harness.h"
#include "iommufd_utils.h"
#include "vfio_edu.h"

/* No call here passes anywhere near this many sites; a loop would. */
#define FI_MAX_NTH	2000
#define FI_TIMEOUT_S	300

#define BUF_PAGES	16
#define BUF_SIZE	(BUF_PAGES * PAGE)
/* Inside the mock aperture, below the edu device's 28-bit DMA mask. */
#define IOVA_A		MOCK_APERTURE_START
#define XFER		512

#define MAP_RW		(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

/* ------------------------------------------------------------------------
 * fail-nth and the debugfs knobs.
 */

/* Totals of the whole run, written by every case's process. */
struct fi_totals {
	unsigned int cases;
	unsigned int injected;
	unsigned int absorbed;
};

static struct fi_totals *fi_totals;

static int fi_write_knob(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -EIO;
}

static int fi_read_knob(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

#define FI_DEBUGFS	"/sys/kernel/debug"

static char fi_saved_min_order[16];

/*
 * What the kernel gives, or why not.  Sets the knobs as upstream's
 * iommufd_fail_nth does: sleeping allocations (GFP_KERNEL, all of the
 * module's) are failed too, and no fault is logged - a failure dump with
 * its stack would read as a splat.  Beyond upstream, fail_page_alloc also
 * fails order-0 pages (its default starts at order 1): IOMMU page tables
 * and the pages of a kvmalloc'ed array are order-0 allocations.  The old
 * min-order comes back at the end of the run.
 */
static IH_UNUSED const char *fi_setup(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;

	if (access("/proc/self/fail-nth", F_OK))
		return "no /proc/self/fail-nth: kernel without CONFIG_FAULT_INJECTION";
	if (access(FI_DEBUGFS "/failslab", F_OK))
		return "no " FI_DEBUGFS "/failslab: kernel without CONFIG_FAILSLAB or CONFIG_FAULT_INJECTION_DEBUG_FS, or debugfs not mounted";
	if (fi_write_knob(FI_DEBUGFS "/failslab/ignore-gfp-wait", "N"))
		return "cannot write failslab/ignore-gfp-wait (not root?)";
	if (!access(FI_DEBUGFS "/fail_page_alloc", F_OK)) {
		fi_write_knob(FI_DEBUGFS "/fail_page_alloc/ignore-gfp-wait",
			      "N");
		fi_write_knob(FI_DEBUGFS "/fail_page_alloc/ignore-gfp-highmem",
			      "N");
		if (!fi_read_knob(FI_DEBUGFS "/fail_page_alloc/min-order",
				  fi_saved_min_order,
				  sizeof(fi_saved_min_order)))
			fi_write_knob(FI_DEBUGFS "/fail_page_alloc/min-order",
				      "0");
	}
	dir = opendir(FI_DEBUGFS);
	if (!dir)
		return "cannot read " FI_DEBUGFS;
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, "fail", 4))
			continue;
		snprintf(path, sizeof(path), FI_DEBUGFS "/%s/verbose",
			 de->d_name);
		fi_write_knob(path, "0");
	}
	closedir(dir);
	return NULL;
}

static void fi_restore(void)
{
	if (fi_saved_min_order[0])
		fi_write_knob(FI_DEBUGFS "/fail_page_alloc/min-order",
			      fi_saved_min_order);
}

/* This thread's fail-nth, opened once: an unprivileged case keeps it. */
static int fi_nth_fd = -1;

static void fi_open_nth(void)
{
	char path[64];

#ifdef FI_DRY_RUN
	return;
#endif
	if (fi_nth_fd >= 0)
		return;
	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	fi_nth_fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_NE(-1, fi_nth_fd);
}

/*
 * Disarm fail-nth after the call; returns whether the armed fault fired
 * inside the call.  Reading and writing the file pass user-copy sites
 * themselves: an armed count that outlived the call may fire there
 * (EFAULT), which only tells that it had not fired before.
 */
static bool fi_disarm(void)
{
	char buf[32] = "";
	ssize_t n;
	bool fired;

	n = pread(fi_nth_fd, buf, sizeof(buf) - 1, 0);
	if (n == -1 && errno == EFAULT)
		fired = false;
	else {
		ASSERT_LT(0, n);
		fired = strtoul(buf, NULL, 10) == 0;
	}
	if (pwrite(fi_nth_fd, "0", 1, 0) != 1) {
		ASSERT_EQ(EFAULT, errno);
		ASSERT_EQ(1, pwrite(fi_nth_fd, "0", 1, 0));
	}
	return fired;
}

/* ------------------------------------------------------------------------
 * The sweep engine.
 */

/* State a sweep's steps share: whatever the call needs. */
struct fi_state {
	int fd;			/* /dev/iommu */
	uint32_t ioas_id, ioas2_id, hwpt_id, stdev_id;
	struct edu edu;
	bool edu_open;
	struct edu edu2;	/* a second group in edu's container */
	bool edu2_open;
	uint32_t dev_id;
	uint8_t *a, *b;		/* user buffers, BUF_SIZE each */
	int mfd;		/* a memfd, BUF_SIZE, mapped at mem */
	uint8_t *mem;
	uint64_t out;		/* what the call reported (a length, an id) */
	uint32_t id_out;
	pid_t peer;		/* CHANGE_PROCESS: the mapping process */
	int to_peer, from_peer;
	/* The peer's counters before and after it mapped. */
	struct vm_counters peer_unmapped, peer_mapped;
	unsigned int seed;	/* of the next DMA pattern */
};

struct fi_sweep {
	const char *what;
	/* Builds the state the call starts from (no injection). */
	void (*prepare)(struct fi_state *st);
	/* The call: 0, or -1 with errno. */
	int (*call)(struct fi_state *st);
	/*
	 * After a failed call (errno @err): asserts that it took effect
	 * entirely or not at all, returns which (1: entirely), and brings
	 * the state to "done" (the retry that must work).  NULL: the call
	 * must have had no effect, and the retry is the call again.
	 */
	int (*after_failure)(struct fi_state *st, int err);
	/* Checks what the successful call did. */
	void (*verify)(struct fi_state *st);
	/* Back to the sweep's start. */
	void (*cleanup)(struct fi_state *st);
};

static bool fi_errno_documented(int err)
{
	return err == ENOMEM || err == EFAULT;
}

static void expect_counters(const struct fi_sweep *sw, const char *when,
			    unsigned int nth, struct vm_counters want,
			    struct vm_counters got)
{
	if (want.pin_kb == got.pin_kb && want.lck_kb == got.lck_kb)
		return;
	TEST_LOG("failing site %u of %s: %s: VmPin %ld kB (want %ld), VmLck %ld kB (want %ld)",
		 nth, sw->what, when, got.pin_kb, want.pin_kb, got.lck_kb,
		 want.lck_kb);
	ASSERT_TRUE(false);
}

static struct vm_counters add_delta(struct vm_counters base,
				    struct vm_counters from,
				    struct vm_counters to)
{
	base.pin_kb += to.pin_kb - from.pin_kb;
	base.lck_kb += to.lck_kb - from.lck_kb;
	return base;
}

static void fi_run(const struct fi_sweep *sw, struct fi_state *st)
{
	struct vm_counters start, before, after, ref_before, ref_after;
	unsigned int nth, injected = 0, absorbed = 0, efault = 0, enomem = 0;
	double t0 = ih_now();

	fi_open_nth();
	start = vm_counters();

	/* A reference run: what success does to the counters. */
	sw->prepare(st);
	ref_before = vm_counters();
	if (sw->call(st)) {
		TEST_LOG("%s fails without fault injection: %s", sw->what,
			 strerror(errno));
		ASSERT_TRUE(false);
	}
	ref_after = vm_counters();
	sw->verify(st);
	sw->cleanup(st);
	expect_counters(sw, "after the reference run", 0, start, vm_counters());
#ifdef FI_DRY_RUN
	/* A developer's check of the steps on a kernel without fail-nth. */
	TEST_LOG("%s: reference run only", sw->what);
	return;
#endif

	for (nth = 1;; nth++) {
		char armed[16];
		bool fired;
		int rc, err;

		ASSERT_GT(FI_MAX_NTH, nth);
		sw->prepare(st);
		before = vm_counters();

		snprintf(armed, sizeof(armed), "%u", nth);
		ASSERT_EQ((ssize_t)strlen(armed),
			  pwrite(fi_nth_fd, armed, strlen(armed), 0));
		rc = sw->call(st);
		err = errno;
		fired = fi_disarm();
		after = vm_counters();

		if (!fired) {
			/* Fewer than nth sites: the sweep is complete. */
			if (rc) {
				TEST_LOG("%s failed (%s) with no fault injected",
					 sw->what, strerror(err));
				ASSERT_EQ(0, rc);
			}
			sw->verify(st);
			sw->cleanup(st);
			break;
		}
		injected++;
		if (rc == 0) {
			/* The kernel absorbed the failure (a fallback). */
			absorbed++;
			expect_counters(sw, "absorbed failure", nth,
					add_delta(before, ref_before, ref_after),
					after);
		} else {
			int effect = 0;

			if (!fi_errno_documented(err)) {
				TEST_LOG("failing site %u of %s: errno %s (%s), not ENOMEM or EFAULT",
					 nth, sw->what, ih_errno_name(err),
					 strerror(err));
				ASSERT_TRUE(false);
			}
			err == EFAULT ? efault++ : enomem++;
			if (sw->after_failure) {
				effect = sw->after_failure(st, err);
				if (effect && err != EFAULT) {
					TEST_LOG("failing site %u of %s: %s, yet the call took effect",
						 nth, sw->what, strerror(err));
					ASSERT_TRUE(false);
				}
			}
			expect_counters(sw, "after the failed call", nth,
					effect ? add_delta(before, ref_before,
							   ref_after)
					       : before,
					after);
			if (!sw->after_failure) {
				errno = 0;
				rc = sw->call(st);
				if (rc) {
					TEST_LOG("failing site %u of %s: the next call failed too (%s)",
						 nth, sw->what,
						 strerror(errno));
					ASSERT_EQ(0, rc);
				}
			}
			expect_counters(sw, "after the next call", nth,
					add_delta(before, ref_before, ref_after),
					vm_counters());
		}
		sw->verify(st);
		sw->cleanup(st);
		expect_counters(sw, "after undoing the call", nth, start,
				vm_counters());
	}

	TEST_LOG("%s: %u sites failed (%u ENOMEM, %u EFAULT, %u absorbed), %.1f s",
		 sw->what, injected, enomem, efault, absorbed,
		 ih_now() - t0);
	__atomic_add_fetch(&fi_totals->cases, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&fi_totals->injected, injected, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&fi_totals->absorbed, absorbed, __ATOMIC_SEQ_CST);
}

/* ------------------------------------------------------------------------
 * Helpers of the steps.
 */

static uint8_t *fi_buffer(void)
{
	uint8_t *buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, madvise(buf, BUF_SIZE, MADV_NOHUGEPAGE));
	memset(buf, 0, BUF_SIZE);
	return buf;
}

static void ioas_map_buf(int fd, uint32_t ioas_id, const void *buf,
			 uint64_t iova)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA,
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)buf,
		.length = BUF_SIZE,
		.iova = iova,
	};

	ASSERT_EQ(0, ioctl(fd, IOMMU_IOAS_MAP, &cmd));
}

static IH_UNUSED void ioas_unmap_all(int fd, uint32_t ioas_id)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = 0,
		.length = UINT64_MAX,
	};

	ASSERT_EQ(0, ioctl(fd, IOMMU_IOAS_UNMAP, &cmd));
}

static int mock_domain(int fd, uint32_t pt_id, uint32_t *stdev_id,
		       uint32_t *hwpt_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
		.id = pt_id,
	};
	int rc = test_cmd(fd, &cmd);

	if (!rc && stdev_id)
		*stdev_id = cmd.mock_domain.out_stdev_id;
	if (!rc && hwpt_id)
		*hwpt_id = cmd.mock_domain.out_hwpt_id;
	return rc;
}

/* How many pages of [iova, +BUF_SIZE) the mock domain maps to @uptr. */
static unsigned int mock_pages_mapped(struct fi_state *st, uint64_t iova,
				      const uint8_t *uptr)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < BUF_PAGES; i++)
		if (!check_map(st->fd, st->hwpt_id, iova + i * PAGE, PAGE,
			       uptr + i * PAGE))
			n++;
	return n;
}

/* Whole or nothing: 1 mapped, 0 not; anything between fails the case. */
static int mock_mapping_state(struct fi_state *st, uint64_t iova,
			      const uint8_t *uptr)
{
	unsigned int n = mock_pages_mapped(st, iova, uptr);

	if (n && n != BUF_PAGES) {
		TEST_LOG("%u of %u pages left mapped", n, BUF_PAGES);
		ASSERT_TRUE(false);
	}
	return n == BUF_PAGES;
}

static void fill(uint8_t *buf, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 13 + seed);
}

/*
 * Does a write of the edu device to IOVA_A land in @buf?  @buf is cleared,
 * the device writes its buffer (never zero: edu_load() filled it while it
 * could read) to IOVA_A; where the IOMMU blocks it, memory stays clear.
 */
static bool edu_write_lands(struct fi_state *st, uint8_t *buf)
{
	memset(buf, 0, XFER);
	ASSERT_EQ(0, edu_dma(&st->edu, IOVA_A, 0, XFER, 1));
	for (unsigned int i = 0; i < XFER; i++)
		if (buf[i])
			return true;
	return false;
}

/*
 * Load the device's buffer with a pattern with no zero byte, read from
 * @buf at IOVA_A: the device must be able to read it there.
 */
static void edu_load(struct fi_state *st, uint8_t *buf)
{
	fill(buf, XFER, ++st->seed);
	for (unsigned int i = 0; i < XFER; i++)
		buf[i] |= 1;
	ASSERT_EQ(0, edu_dma(&st->edu, IOVA_A, 0, XFER, 0));
}

/* ------------------------------------------------------------------------
 * VFIO backend, iommufd mode, with the edu device.
 */

static int backend_loaded(void)
{
	return access("/sys/module/iommufd_vfio", F_OK) == 0;
}

static void require_edu_backend(void)
{
	char bdf[32];

	if (!backend_loaded())
		SKIP("iommufd_vfio is not loaded");
	if (edu_find(bdf, sizeof(bdf)))
		SKIP("no edu device in this machine");
}

static int vfio_link(struct fi_state *st)
{
	struct iommufd_dkms_vfio_link link = {
		.size = sizeof(link),
		.iommufd = st->fd,
	};

	return ioctl(st->edu.container_fd, IOMMUFD_DKMS_VFIO_LINK, &link);
}

static uint32_t vfio_dev_id(struct fi_state *st)
{
	struct iommufd_dkms_vfio_device dev;
	struct iommufd_dkms_vfio_devices list = {
		.size = sizeof(list),
		.num_devices = 1,
		.devices = (uintptr_t)&dev,
	};

	ASSERT_EQ(0, ioctl(st->edu.container_fd, IOMMUFD_DKMS_VFIO_DEVICES,
			   &list));
	ASSERT_EQ(1, list.num_devices);
	ASSERT_EQ(0, strcmp(dev.name, st->edu.bdf));
	return dev.dev_id;
}

/* Container, group, /dev/iommu, linked; the device open and DMA-ready. */
static void edu_linked_open(struct fi_state *st)
{
	ASSERT_EQ(0, edu_open(&st->edu, VFIO_IOMMUFD_DKMS_IOMMU));
	st->edu_open = true;
	st->fd = iommufd_open();
	ASSERT_EQ(0, vfio_link(st));
	st->dev_id = vfio_dev_id(st);
	ASSERT_EQ(0, edu_open_device(&st->edu));
}

static void edu_linked_close(struct fi_state *st)
{
	if (st->edu_open)
		edu_close(&st->edu);
	st->edu_open = false;
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
}

static int dev_attach(struct fi_state *st, uint32_t pt_id)
{
	struct iommufd_dkms_device_attach cmd = {
		.size = sizeof(cmd),
		.dev_id = st->dev_id,
		.pt_id = pt_id,
	};
	int rc = ioctl(st->fd, IOMMUFD_DKMS_DEVICE_ATTACH, &cmd);

	if (!rc)
		st->id_out = cmd.pt_id;
	return rc;
}

static int dev_detach(struct fi_state *st)
{
	struct iommufd_dkms_device_detach cmd = {
		.size = sizeof(cmd),
		.dev_id = st->dev_id,
	};

	return ioctl(st->fd, IOMMUFD_DKMS_DEVICE_DETACH, &cmd);
}

FIXTURE(edu_iommufd) {
	struct fi_state st;
};

FIXTURE_SETUP(edu_iommufd)
{
	self->st.fd = -1;
	self->st.mfd = -1;
	require_edu_backend();
	self->st.a = fi_buffer();
	self->st.b = fi_buffer();
}

FIXTURE_TEARDOWN(edu_iommufd)
{
	if (self->st.edu2_open)
		edu_close(&self->st.edu2);
	edu_linked_close(&self->st);
	munmap(self->st.a, BUF_SIZE);
	munmap(self->st.b, BUF_SIZE);
}

/* --- IOMMUFD_DKMS_VFIO_LINK: a fresh container each time --- */

static void link_prepare(struct fi_state *st)
{
	ASSERT_EQ(0, edu_open(&st->edu, VFIO_IOMMUFD_DKMS_IOMMU));
	st->edu_open = true;
	st->fd = iommufd_open();
}

static int link_call(struct fi_state *st)
{
	return vfio_link(st);
}

/* The linked device st->dev_id works: attach, DMA. */
static void linked_device_works(struct fi_state *st)
{
	ASSERT_EQ(0, edu_open_device(&st->edu));
	st->ioas_id = ioas_alloc(st->fd);
	ioas_map_buf(st->fd, st->ioas_id, st->a, IOVA_A);
	ASSERT_EQ(0, dev_attach(st, st->ioas_id));
	edu_load(st, st->a);
	ASSERT_TRUE(edu_write_lands(st, st->a));
}

/* The device is an object of the iommufd, and works. */
static void link_verify(struct fi_state *st)
{
	st->dev_id = vfio_dev_id(st);
	linked_device_works(st);
}

static void link_cleanup(struct fi_state *st)
{
	edu_linked_close(st);
}

TEST_F_TIMEOUT(edu_iommufd, vfio_link, FI_TIMEOUT_S)
{
	static const struct fi_sweep sw = {
		.what = "IOMMUFD_DKMS_VFIO_LINK",
		.prepare = link_prepare,
		.call = link_call,
		.verify = link_verify,
		.cleanup = link_cleanup,
	};

	fi_run(&sw, &self->st);
}

/*
 * --- IOMMUFD_DKMS_VFIO_LINK of a container with two groups ---
 *
 * A failure while binding the second group's device unbinds the first
 * group's again, inside the link.  Unbinding takes the device's lock; an
 * attach (this sweep's reference run and every verify step) takes the
 * device's lock and then the container's.  Before issue 8 item 13 was
 * fixed, the link unbound under the container's lock: lockdep reported a
 * circular dependency here on the debug kernel.
 */
static void link2_prepare(struct fi_state *st)
{
	link_prepare(st);
	if (edu_open_second(&st->edu2, st->edu.container_fd, 1))
		SKIP("no second edu group");
	st->edu2_open = true;
}

static void link2_verify(struct fi_state *st)
{
	struct iommufd_dkms_vfio_device dev[2];
	struct iommufd_dkms_vfio_devices list = {
		.size = sizeof(list),
		.num_devices = 2,
		.devices = (uintptr_t)dev,
	};

	ASSERT_EQ(0, ioctl(st->edu.container_fd, IOMMUFD_DKMS_VFIO_DEVICES,
			   &list));
	ASSERT_EQ(2, list.num_devices);
	st->dev_id = strcmp(dev[0].name, st->edu.bdf) ? dev[1].dev_id :
							 dev[0].dev_id;
	linked_device_works(st);
}

static void link2_cleanup(struct fi_state *st)
{
	/* The second group leaves first: it holds no container fd. */
	if (st->edu2_open)
		edu_close(&st->edu2);
	st->edu2_open = false;
	edu_linked_close(st);
}

TEST_F_TIMEOUT(edu_iommufd, vfio_link_two_groups, FI_TIMEOUT_S)
{
	static const struct fi_sweep sw = {
		.what = "IOMMUFD_DKMS_VFIO_LINK (two groups)",
		.prepare = link2_prepare,
		.call = link_call,
		.verify = link2_verify,
		.cleanup = link2_cleanup,
	};

	fi_run(&sw, &self->st);
}

/* --- IOMMUFD_DKMS_DEVICE_ATTACH to an IOAS (an automatic HWPT) --- */

static void attach_prepare(struct fi_state *st)
{
	if (st->fd < 0)
		edu_linked_open(st);
	st->ioas_id = ioas_alloc(st->fd);
	ioas_map_buf(st->fd, st->ioas_id, st->a, IOVA_A);
}

static int attach_call(struct fi_state *st)
{
	return dev_attach(st, st->ioas_id);
}

/* A reply that faulted may follow a complete attach: DMA tells. */
static int attach_after_failure(struct fi_state *st, int err)
{
	(void)err;
	if (edu_write_lands(st, st->a))
		return 1;
	ASSERT_EQ(0, attach_call(st));
	return 0;
}

static void attach_verify(struct fi_state *st)
{
	edu_load(st, st->a);
	ASSERT_TRUE(edu_write_lands(st, st->a));
}

/* Detached, the IOAS is nobody's: a HWPT left behind would hold it. */
static void attach_cleanup(struct fi_state *st)
{
	ASSERT_EQ(0, dev_detach(st));
	ASSERT_EQ(0, destroy(st->fd, st->ioas_id));
}

TEST_F_TIMEOUT(edu_iommufd, device_attach, FI_TIMEOUT_S)
{
	static const struct fi_sweep sw = {
		.what = "IOMMUFD_DKMS_DEVICE_ATTACH (IOAS)",
		.prepare = attach_prepare,
		.call = attach_call,
		.after_failure = attach_after_failure,
		.verify = attach_verify,
		.cleanup = attach_cleanup,
	};

	fi_run(&sw, &self->st);
}

/* --- attach again: replace one IOAS by another --- */

static void replace_prepare(struct fi_state *st)
{
	attach_prepare(st);
	ASSERT_EQ(0, dev_attach(st, st->ioas_id));
	st->ioas2_id = ioas_alloc(st->fd);
	ioas_map_buf(st->fd, st->ioas2_id, st->b, IOVA_A);
	/* The device's buffer holds a pattern from here on. */
	edu_load(st, st->a);
}

static int replace_call(struct fi_state *st)
{
	return dev_attach(st, st->ioas2_id);
}

/* The old attachment stays in force until the new one is complete. */
static int replace_after_failure(struct fi_state *st, int err)
{
	bool in_a = edu_write_lands(st, st->a);
	bool in_b = edu_write_lands(st, st->b);

	(void)err;
	ASSERT_TRUE(in_a != in_b);
	if (in_b)
		return 1;
	ASSERT_EQ(0, replace_call(st));
	return 0;
}

static void replace_verify(struct fi_state *st)
{
	ASSERT_TRUE(edu_write_lands(st, st->b));
	ASSERT_FALSE(edu_write_lands(st, st->a));
}

static void replace_cleanup(struct fi_state *st)
{
	ASSERT_EQ(0, dev_detach(st));
	ASSERT_EQ(0, destroy(st->fd, st->ioas2_id));
	ASSERT_EQ(0, destroy(st->fd, st->ioas_id));
}

TEST_F_TIMEOUT(edu_iommufd, device_replace, FI_TIMEOUT_S)
{
	static const struct fi_sweep sw = {
		.what = "IOMMUFD_DKMS_DEVICE_ATTACH (replace)",
		.prepare = replace_prepare,
		.call = replace_call,
		.after_failure = replace_after_failure,
		.verify = replace_verify,
		.cleanup = replace_cleanup,
	};

	fi_run(&sw, &self->st);
}

/* --- IOMMUFD_DKMS_DEVICE_DETACH --- */

static void detach_prepare(struct fi_state *st)
{
	attach_prepare(st);
	ASSERT_EQ(0, dev_attach(st, st->ioas_id));
	edu_load(st, st->a);
}

static int detach_call(struct fi_state *st)
{
	return dev_detach(st);
}

static void detach_verify(struct fi_state *st)
{
	ASSERT_FALSE(edu_write_lands(st, st->a));
}

static void detach_cleanup(struct fi_state *st)
{
	ASSERT_EQ(0, destroy(st->fd, st->ioas_id));
}

TEST_F_TIMEOUT(edu_iommufd, device_detach, FI_TIMEOUT_S)
{
	static const struct fi_sweep sw = {
		.what = "IOMMUFD_DKMS_DEVICE_DETACH",
		.prepare = detach_prepare,
		.call = detach_call,
		.verify = detach_verify,
		.cleanup = detach_cleanup,
	};

	fi_run(&sw, &self->st);
}

/* --- IOMMU_HWPT_ALLOC for the device --- */

static int hwpt_alloc_call(struct fi_state *st)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.dev_id = st->dev_id,
		.pt_id = st->ioas_id,
	};
	int rc = ioctl(st->fd, IOMMU_HWPT_ALLOC, &cmd);

	if (!rc)
		st->hwpt_id = cmd.out_hwpt_id;
	return rc;
}

static void hwpt_alloc_verify(struct fi_state *st)
{
	ASSERT_EQ(0, dev_attach(st, st->hwpt_id));
	ASSERT_EQ(st->hwpt_id, st->id_out);
	edu_load(st, st->a);
	ASSERT_TRUE(edu_write_lands(st, st->a));
}

/* A HWPT the failed call left behind would keep the IOAS busy. */
static void hwpt_alloc_cleanup(struct fi_state *st)
{
	ASSERT_EQ(0, dev_detach(st));
	ASSERT_EQ(0, destroy(st->fd, st->hwpt_id));
	ASSERT_EQ(0, destroy(st->fd, st->ioas_id));
}

TEST_F_TIMEOUT(edu_iommufd, hwpt_alloc, FI_TIMEOUT_S)
{
	static const struct fi_sweep sw = {
		.what = "IOMMU_HWPT_ALLOC (edu device)",
		.prepare = attach_prepare,
		.call = hwpt_alloc_call,
		.verify = hwpt_alloc_verify,
		.cleanup = hwpt_alloc_cleanup,
	};

	fi_run(&sw, &self->st);
}

/* ------------------------------------------------------------------------
 * VFIO type1 on a container served by iommufd_vfio (type1=1).
 */

FIXTURE(edu_type1) {
	struct fi_state st;
};

FIXTURE_SETUP(edu_type1)
{
	long refs;

	self->st.fd = -1;
	self->st.mfd = -1;
	require_edu_backend();
	refs = module_refcnt("iommufd_vfio");
	ASSERT_EQ(0, edu_open(&self->st.edu, VFIO_TYPE1v2_IOMMU));
	self->st.edu_open = true;
	if (module_refcnt("iommufd_vfio") <= refs) {
		edu_close(&self->st.edu);
		SKIP("iommufd_vfio was loaded without type1=1");
	}
	ASSERT_EQ(0, edu_open_device(&self->st.edu));
	self->st.a = fi_buffer();
}

FIXTURE_TEARDOWN(edu_type1)
{
	edu_close(&self->st.edu);
	munmap(self->st.a, BUF_SIZE);
}

static int type1_map(int fd, const void *buf)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)buf,
		.iova = IOVA_A,
		.size = BUF_SIZE,
	};

	return ioctl(fd, VFIO_IOMMU_MAP_DMA, &map);
}

static int type1_unmap(int fd, uint64_t *unmapped)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = IOVA_A,
		.size = BUF_SIZE,
	};
	int rc = ioctl(fd, VFIO_IOMMU_UNMAP_DMA, &unmap);

	if (!rc)
		*unmapped = unmap.size;
	return rc;
}

static void nothing(struct fi_state *st)
{
	(void)st;
}

static int container_map_call(struct fi_state *st)
{
	return type1_map(st->edu.container_fd, st->a);
}

static void container_map_verify(struct fi_state *st)
{
	edu_load(st, st->a);
	ASSERT_TRUE(edu_write_lands(st, st->a));
}

static void container_unmap_all(struct fi_state *st)
{
	ASSERT_EQ(0, type1_unmap(st->edu.container_fd, &st->out));
	ASSERT_EQ(BUF_SIZE, st->out);
}

TEST_F_TIMEOUT(edu_type1, container_map_dma, FI_TIMEOUT_S)
{
	static const struct fi_sweep sw = {
		.what = "VFIO_IOMMU_MAP_DMA (container)",
		.prepare = nothing,
		.call = container_map_call,
		.verify = container_map_verify,
		.cleanup = container_unmap_all,
	};

	fi_run(&sw, &self->st);
}

static void container_unmap_prepare(struct fi_state *st)
{
	ASSERT_EQ(0, container_map_call(st));
}

static int container_unmap_call(struct fi_state *st)
{
	return type1_unmap(st->edu.container_fd, &st->out);
}

/*
 * The unmapped length is written back: a fault there may follow a
 * complete unmap.  Unmapping again tells: all of it, or nothing left.
 */
static int container_unmap_after_failure(struct fi_state *st, int err)
{
	(void)err;
	ASSERT_EQ(0, container_unmap_call(st));
	if (st->out == 0)
		return 1;
	ASSERT_EQ(BUF_SIZE, st->out);
	return 0;
}

static void container_unmap_verify(struct fi_state *st)
{
	ASSERT_FALSE(edu_write_lands(st, st->a));
}

TEST_F_TIMEOUT(edu_type1, container_unmap_dma, FI_TIMEOUT_S)
{
	static const struct fi_sweep sw = {
		.what = "VFIO_IOMMU_UNMAP_DMA (container)",
		.prepare = container_unmap_prepare,
		.call = container_unmap_call,
		.after_failure = container_unmap_after_failure,
		.verify = container_unmap_verify,
		.cleanup = nothing,
	};

	fi_run(&sw, &self->st);
}

static int container_info_call(struct fi_state *st)
{
	struct {
		struct vfio_iommu_type1_info info;
		uint8_t caps[512];
	} buf = { .info = { .argsz = sizeof(buf) } };
	int rc = ioctl(st->edu.container_fd, VFIO_IOMMU_GET_INFO, &buf);

	if (!rc)
		st->out = buf.info.iova_pgsizes;
	return rc;
}

static void container_info_verify(struct fi_state *st)
{
	ASSERT_TRUE(st->out & PAGE);
}

TEST_F_TIMEOUT(edu_type1, container_get_info, FI_TIMEOUT_S)
{
	static const struct fi_sweep sw = {
		.what = "VFIO_IOMMU_GET_INFO (container)",
		.prepare = nothing,
		.call = container_info_call,
		.verify = container_info_verify,
		.cleanup = nothing,
	};

	fi_run(&sw, &self->st);
}

/* ------------------------------------------------------------------------
 * /dev/iommu with a mock domain (self-test mode): the type1 ioctls on
 * the compatibility IOAS, IOMMU_IOAS_MAP_FILE, IOMMU_IOAS_CHANGE_PROCESS.
 * Variants: root (no limit; VmPin), and nobody under a RLIMIT_MEMLOCK of
 * exactly one buffer, per user (user->locked_vm, seen only through the
 * limit) and per process (VmLck).
 */

FIXTURE(mock) {
	struct fi_state st;
};

FIXTURE_VARIANT(mock) {
	bool nobody;
	uint64_t rlimit_mode;
};

FIXTURE_VARIANT_ADD(mock, root) {
	.nobody = false,
};

FIXTURE_VARIANT_ADD(mock, nobody_per_user) {
	.nobody = true,
	.rlimit_mode = 0,
};

FIXTURE_VARIANT_ADD(mock, nobody_per_process) {
	.nobody = true,
	.rlimit_mode = 1,
};

FIXTURE_SETUP(mock)
{
	struct iommu_vfio_ioas set = {
		.size = sizeof(set),
		.op = IOMMU_VFIO_IOAS_SET,
	};

	self->st.mfd = -1;
	self->st.fd = iommufd_open();
	if (!selftest_available(self->st.fd)) {
		close(self->st.fd);
		SKIP("no IOMMU_TEST_CMD: module not loaded with selftest=1");
	}
	ASSERT_EQ(0, set_rlimit_mode(self->st.fd, variant->rlimit_mode));
	self->st.ioas_id = ioas_alloc(self->st.fd);
	ASSERT_EQ(0, mock_domain(self->st.fd, self->st.ioas_id,
				 &self->st.stdev_id, &self->st.hwpt_id));
	set.ioas_id = self->st.ioas_id;
	ASSERT_EQ(0, ioctl(self->st.fd, IOMMU_VFIO_IOAS, &set));
	self->st.a = fi_buffer();
}

/*
 * The unprivileged variants become nobody under a RLIMIT_MEMLOCK of
 * exactly what the sweep's call needs at its peak (@buffers buffers):
 * any charge a failed call kept makes the next call fail.  fail-nth is
 * opened before: nobody cannot open a root process's /proc files.
 */
static void mock_become(struct fi_state *st, const FIXTURE_VARIANT(mock) *variant,
			unsigned int buffers)
{
	(void)st;
	fi_open_nth();
	if (!variant->nobody)
		return;
	set_memlock_limit(buffers * BUF_SIZE);
	drop_to_nobody();
}

FIXTURE_TEARDOWN(mock)
{
	close(self->st.fd);
	munmap(self->st.a, BUF_SIZE);
	if (self->st.mfd >= 0) {
		munmap(self->st.mem, BUF_SIZE);
		close(self->st.mfd);
	}
}

/* --- type1 on /dev/iommu --- */

static int iommufd_map_call(struct fi_state *st)
{
	return type1_map(st->fd, st->a);
}

static void iommufd_map_verify(struct fi_state *st)
{
	ASSERT_EQ(1, mock_mapping_state(st, IOVA_A, st->a));
}

static void iommufd_unmap_all(struct fi_state *st)
{
	ASSERT_EQ(0, type1_unmap(st->fd, &st->out));
	ASSERT_EQ(BUF_SIZE, st->out);
}

TEST_F_TIMEOUT(mock, iommufd_map_dma, FI_TIMEOUT_S)
{
	static const struct fi_sweep sw = {
		.what = "VFIO_IOMMU_MAP_DMA (/dev/iommu)",
		.prepare = nothing,
		.call = iommufd_map_call,
		.verify = iommufd_map_verify,
		.cleanup = iommufd_unmap_all,
	};

	mock_become(&self->st, variant, 1);
	fi_run(&sw, &self->st);
}

static void iommufd_unmap_prepare(struct fi_state *st)
{
	ASSERT_EQ(0, iommufd_map_call(st));
}

static int iommufd_unmap_call(struct fi_state *st)
{
	return type1_unmap(st->fd, &st->out);
}

static int iommufd_unmap_after_failure(struct fi_state *st, int err)
{
	int mapped = mock_mapping_state(st, IOVA_A, st->a);

	(void)err;
	ASSERT_EQ(0, iommufd_unmap_call(st));
	ASSERT_EQ(mapped ? BUF_SIZE : 0, st->out);
	return !mapped;
}

static void iommufd_unmap_verify(struct fi_state *st)
{
	ASSERT_EQ(0, mock_mapping_state(st, IOVA_A, st->a));
}

TEST_F_TIMEOUT(mock, iommufd_unmap_dma, FI_TIMEOUT_S)
{
	static const struct fi_sweep sw = {
		.what = "VFIO_IOMMU_UNMAP_DMA (/dev/iommu)",
		.prepare = iommufd_unmap_prepare,
		.call = iommufd_unmap_call,
		.after_failure = iommufd_unmap_after_failure,
		.verify = iommufd_unmap_verify,
		.cleanup = nothing,
	};

	mock_become(&self->st, variant, 1);
	fi_run(&sw, &self->st);
}

#ifdef IOMMU_IOAS_MAP_FILE

/* --- IOMMU_IOAS_MAP_FILE of a memfd --- */

static void memfd_open(struct fi_state *st)
{
	if (st->mfd >= 0)
		return;
	st->mfd = memfd_create("fail-nth", MFD_CLOEXEC);
	ASSERT_NE(-1, st->mfd);
	ASSERT_EQ(0, ftruncate(st->mfd, BUF_SIZE));
	st->mem = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		       st->mfd, 0);
	ASSERT_NE(MAP_FAILED, st->mem);
	fill(st->mem, BUF_SIZE, 7);
}

static void map_file_prepare(struct fi_state *st)
{
	memfd_open(st);
}

static int map_file_call(struct fi_state *st)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA,
		.ioas_id = st->ioas_id,
		.fd = st->mfd,
		.start = 0,
		.length = BUF_SIZE,
		.iova = IOVA_A,
	};

	return ioctl(st->fd, IOMMU_IOAS_MAP_FILE, &cmd);
}

/* The IOVA is written back: a fault there may follow a complete map. */
static int map_file_after_failure(struct fi_state *st, int err)
{
	(void)err;
	if (mock_mapping_state(st, IOVA_A, st->mem))
		return 1;
	ASSERT_EQ(0, map_file_call(st));
	return 0;
}

static void map_file_verify(struct fi_state *st)
{
	ASSERT_EQ(1, mock_mapping_state(st, IOVA_A, st->mem));
}

static void map_file_cleanup(struct fi_state *st)
{
	ioas_unmap_all(st->fd, st->ioas_id);
}

TEST_F_TIMEOUT(mock, ioas_map_file, FI_TIMEOUT_S)
{
	static const struct fi_sweep sw = {
		.what = "IOMMU_IOAS_MAP_FILE",
		.prepare = map_file_prepare,
		.call = map_file_call,
		.after_failure = map_file_after_failure,
		.verify = map_file_verify,
		.cleanup = map_file_cleanup,
	};

	mock_become(&self->st, variant, 1);
	fi_run(&sw, &self->st);
}

#endif /* IOMMU_IOAS_MAP_FILE */

#if defined(IOMMU_IOAS_CHANGE_PROCESS) && defined(IOMMU_IOAS_MAP_FILE)

/* --- IOMMU_IOAS_CHANGE_PROCESS: the charge moves from a peer to us --- */

/*
 * The peer is a child that maps the memfd (so it pays), then answers
 * requests on a pipe: 'c' sends its counters, 'q' ends it.  A case run
 * as nobody forks its peer as nobody too.
 */
static void peer_loop(struct fi_state *st, int in, int out)
{
	struct vm_counters vm = vm_counters();
	char req;

	if (write(out, &vm, sizeof(vm)) != sizeof(vm))
		_exit(3);
	if (map_file_call(st))
		_exit(2);
	vm = vm_counters();
	if (write(out, &vm, sizeof(vm)) != sizeof(vm))
		_exit(3);
	while (read(in, &req, 1) == 1 && req == 'c') {
		vm = vm_counters();
		if (write(out, &vm, sizeof(vm)) != sizeof(vm))
			_exit(3);
	}
	_exit(0);
}

static struct vm_counters peer_counters(struct fi_state *st)
{
	struct vm_counters vm;

	ASSERT_EQ(1, write(st->to_peer, "c", 1));
	ASSERT_EQ((ssize_t)sizeof(vm), read(st->from_peer, &vm, sizeof(vm)));
	return vm;
}

static void change_prepare(struct fi_state *st)
{
	int req[2], ans[2];

	memfd_open(st);
	ASSERT_EQ(0, pipe(req));
	ASSERT_EQ(0, pipe(ans));
	fflush(stdout);
	st->peer = fork();
	ASSERT_NE(-1, st->peer);
	if (st->peer == 0) {
		close(req[1]);
		close(ans[0]);
		peer_loop(st, req[0], ans[1]);
	}
	close(req[0]);
	close(ans[1]);
	st->to_peer = req[1];
	st->from_peer = ans[0];
	ASSERT_EQ((ssize_t)sizeof(st->peer_unmapped),
		  read(st->from_peer, &st->peer_unmapped,
		       sizeof(st->peer_unmapped)));
	ASSERT_EQ((ssize_t)sizeof(st->peer_mapped),
		  read(st->from_peer, &st->peer_mapped,
		       sizeof(st->peer_mapped)));
	ASSERT_GT(st->peer_mapped.pin_kb, st->peer_unmapped.pin_kb);
}

static int change_call(struct fi_state *st)
{
	struct iommu_ioas_change_process cmd = { .size = sizeof(cmd) };

	return ioctl(st->fd, IOMMU_IOAS_CHANGE_PROCESS, &cmd);
}

/* Failed: the peer still pays all of it (the engine checks us). */
static int change_after_failure(struct fi_state *st, int err)
{
	struct vm_counters peer = peer_counters(st);

	(void)err;
	ASSERT_EQ(st->peer_mapped.pin_kb, peer.pin_kb);
	ASSERT_EQ(st->peer_mapped.lck_kb, peer.lck_kb);
	ASSERT_EQ(0, change_call(st));
	return 0;
}

/* Moved: the peer pays nothing any more, and the mapping is intact. */
static void change_verify(struct fi_state *st)
{
	struct vm_counters peer = peer_counters(st);

	ASSERT_EQ(st->peer_unmapped.pin_kb, peer.pin_kb);
	ASSERT_EQ(st->peer_unmapped.lck_kb, peer.lck_kb);
	ASSERT_EQ(1, mock_mapping_state(st, IOVA_A, st->mem));
}

static void change_cleanup(struct fi_state *st)
{
	int status;

	ioas_unmap_all(st->fd, st->ioas_id);
	ASSERT_EQ(1, write(st->to_peer, "q", 1));
	ASSERT_EQ(st->peer, waitpid(st->peer, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	close(st->to_peer);
	close(st->from_peer);
}

TEST_F_TIMEOUT(mock, ioas_change_process, FI_TIMEOUT_S)
{
	static const struct fi_sweep sw = {
		.what = "IOMMU_IOAS_CHANGE_PROCESS",
		.prepare = change_prepare,
		.call = change_call,
		.after_failure = change_after_failure,
		.verify = change_verify,
		.cleanup = change_cleanup,
	};

	mock_become(&self->st, variant, 2);
	fi_run(&sw, &self->st);
}

#endif /* IOMMU_IOAS_CHANGE_PROCESS && IOMMU_IOAS_MAP_FILE */

/* ------------------------------------------------------------------------
 * main: one SKIP without fault injection, else the cases and the totals.
 */

int main(int argc, char **argv)
{
	const char *missing;
	double t0 = ih_now();
	int rc;

	bool listing = false;

	for (int i = 1; i < argc; i++)
		listing |= !strcmp(argv[i], "-l");
#ifdef FI_DRY_RUN
	listing = true;
#endif
	if (!listing) {
#ifndef IOMMU_IOAS_MAP_FILE
		/*
		 * Built against an older iommufd.h (a kernel's own, for the
		 * ABI check): the sweeps are the same as in the build against
		 * ours, less two, and would only double the debug boot's time.
		 */
		missing = "built against an iommufd.h without IOMMU_IOAS_MAP_FILE: the sweeps run in the build against ours";
#else
		missing = fi_setup();
#endif
		if (missing) {
			printf("TAP version 13\n1..1\n");
			printf("ok 1 fail_nth_ours # SKIP %s\n", missing);
			return 0;
		}
	}
	fi_totals = mmap(NULL, sizeof(*fi_totals), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (fi_totals == MAP_FAILED)
		return 2;
	rc = ih_main(argc, argv);
	if (listing)
		return rc;
	fi_restore();
	printf("# fail_nth_ours: %u cases, %u injected failures (%u absorbed by the kernel), %.1f s\n",
	       fi_totals->cases, fi_totals->injected, fi_totals->absorbed,
	       ih_now() - t0);
	return rc;
}
