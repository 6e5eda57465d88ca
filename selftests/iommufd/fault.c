// SPDX-License-Identifier: GPL-2.0
/*
 * Fault queues through the public ABI: IOMMU_FAULT_QUEUE_ALLOC and its file
 * descriptor (read() of struct iommu_hwpt_pgfault, write() of struct
 * iommu_hwpt_page_response, poll()), HWPTs made with
 * IOMMU_HWPT_FAULT_ID_VALID, and page requests of a mock device
 * (IOMMU_TEST_OP_TRIGGER_IOPF).
 *
 * Upstream's answers (drivers/iommu/iommufd/fault.c and hw_pagetable.c of
 * 6.12): flags are EOPNOTSUPP; a fault_id that names no fault queue is
 * ENOENT; read and write take whole records (ESPIPE otherwise, and for a
 * file position), a read too small for the first group waiting is EINVAL,
 * an unknown cookie or response code EINVAL; poll is always writable and
 * readable while a group waits; a queue used by a HWPT, or whose file is
 * open, is EBUSY to IOMMU_DESTROY.  Only nested HWPTs take a fault queue,
 * as in 6.12 (EOPNOTSUPP for a paging one); the mock keeps its PASID table
 * in the stage-1, so requests with a PASID reach the nested HWPT too.
 *
 * What the mock device was answered is counted by the module, in
 * /sys/kernel/debug/iommufd/selftest_iopf (module/selftest_iopf.c): every
 * case checks at its end that every request it made got exactly one
 * answer, whatever became of the queue, the HWPT or the device.
 *
 * The cases need the module loaded with selftest=1 (else they skip).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/iommufd.h>
#include <linux/iommufd_test.h>

#include "iommufd_harness.h"
#include "iommufd_utils.h"
#include "iommufd_mock.h"

#define NO_SUCH_ID	0x7fffff00u
#define IOPF_COUNTS	"/sys/kernel/debug/iommufd/selftest_iopf"
#define REC		sizeof(struct iommu_hwpt_pgfault)
#define ANS		sizeof(struct iommu_hwpt_page_response)

/* --- the ioctls ------------------------------------------------------------ */

static int fault_alloc(int fd, uint32_t *fault_id, int *fault_fd)
{
	struct iommu_fault_alloc cmd = { .size = sizeof(cmd) };
	int rc = ioctl(fd, IOMMU_FAULT_QUEUE_ALLOC, &cmd);

	if (!rc) {
		*fault_id = cmd.out_fault_id;
		*fault_fd = cmd.out_fault_fd;
	}
	return rc;
}

static int hwpt_alloc(int fd, uint32_t dev_id, uint32_t pt_id, uint32_t flags,
		      uint32_t fault_id, uint32_t *out_hwpt_id)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
		.fault_id = fault_id,
	};
	int rc = ioctl(fd, IOMMU_HWPT_ALLOC, &cmd);

	if (!rc && out_hwpt_id)
		*out_hwpt_id = cmd.out_hwpt_id;
	return rc;
}

/* A nested HWPT of the mock on nest parent @parent_id. */
static int hwpt_alloc_nested(int fd, uint32_t dev_id, uint32_t parent_id,
			     uint32_t flags, uint32_t fault_id,
			     uint32_t *out_hwpt_id)
{
	struct iommu_hwpt_selftest data = { .iotlb = IOMMU_TEST_IOTLB_DEFAULT };
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = parent_id,
		.data_type = IOMMU_HWPT_DATA_SELFTEST,
		.data_len = sizeof(data),
		.data_uptr = (uintptr_t)&data,
		.fault_id = fault_id,
	};
	int rc = ioctl(fd, IOMMU_HWPT_ALLOC, &cmd);

	if (!rc && out_hwpt_id)
		*out_hwpt_id = cmd.out_hwpt_id;
	return rc;
}

static int trigger(int fd, uint32_t idev_id, uint32_t pasid, uint32_t grpid,
		   uint64_t addr)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_TRIGGER_IOPF,
		.trigger_iopf = {
			.dev_id = idev_id,
			.pasid = pasid,
			.grpid = grpid,
			.perm = IOMMU_PGFAULT_PERM_READ |
				IOMMU_PGFAULT_PERM_WRITE,
			.addr = addr,
		},
	};

	return test_cmd(fd, &cmd);
}

static ssize_t answer(int fault_fd, uint32_t cookie, uint32_t code)
{
	struct iommu_hwpt_page_response resp = { .cookie = cookie,
						 .code = code };

	return write(fault_fd, &resp, sizeof(resp));
}

/* --- what the mock device was answered ------------------------------------ */

struct iopf_counts {
	long requests, success, invalid;
};

static struct iopf_counts iopf_counts(void)
{
	struct iopf_counts c = { -1, -1, -1 };
	char line[128];
	FILE *f = fopen(IOPF_COUNTS, "r");

	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "requests: %ld", &c.requests);
		sscanf(line, "success: %ld", &c.success);
		sscanf(line, "invalid: %ld", &c.invalid);
	}
	fclose(f);
	ASSERT_GE(c.requests, 0);
	ASSERT_GE(c.success, 0);
	ASSERT_GE(c.invalid, 0);
	return c;
}

/* Requests made since @start that still wait for an answer. */
static long unanswered_since(struct iopf_counts start)
{
	struct iopf_counts now = iopf_counts();

	return (now.requests - start.requests) -
	       (now.success - start.success) - (now.invalid - start.invalid);
}

static long invalid_since(struct iopf_counts start)
{
	return iopf_counts().invalid - start.invalid;
}

static long success_since(struct iopf_counts start)
{
	return iopf_counts().success - start.success;
}

/* The fault queues fdinfo counts for the context @fd. */
static long fdinfo_faults(int fd)
{
	char path[64], line[128];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		sscanf(line, "iommufd-fault: %ld", &n);
	fclose(f);
	return n;
}

/* What the fdinfo of a fault queue's fd says under @key. */
static long queue_fdinfo(int fault_fd, const char *key)
{
	char path[64], line[128], fmt[64];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fault_fd);
	snprintf(fmt, sizeof(fmt), "%s: %%ld", key);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		sscanf(line, fmt, &n);
	fclose(f);
	return n;
}

/* --- a mock device on a nested HWPT that has a fault queue ---------------- */

FIXTURE(fault)
{
	int fd;
	uint32_t ioas_id;
	struct mock_dev dev;	/* attached to hwpt_id */
	uint32_t fault_id;
	int fault_fd;		/* -1 once a case closed it */
	uint32_t parent_id;	/* a nest parent on ioas_id */
	uint32_t hwpt_id;	/* nested on parent_id, delivering to fault_id */
	struct iopf_counts start;
};

FIXTURE_SETUP(fault)
{
	self->fd = iommufd_open();
	if (!selftest_available(self->fd)) {
		close(self->fd);
		SKIP("no IOMMU_TEST_CMD: module not loaded with selftest=1");
	}
	self->start = iopf_counts();
	self->ioas_id = ioas_alloc(self->fd);
	ASSERT_EQ(0, mock_dev_add(self->fd, self->ioas_id, &self->dev));
	ASSERT_EQ(0, fault_alloc(self->fd, &self->fault_id, &self->fault_fd));
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev_id, self->ioas_id,
				IOMMU_HWPT_ALLOC_NEST_PARENT, 0,
				&self->parent_id));
	ASSERT_EQ(0, hwpt_alloc_nested(self->fd, self->dev.idev_id,
				       self->parent_id,
				       IOMMU_HWPT_FAULT_ID_VALID,
				       self->fault_id, &self->hwpt_id));
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				      self->hwpt_id, NULL));
}

FIXTURE_TEARDOWN(fault)
{
	if (self->fault_fd >= 0)
		ASSERT_EQ(0, close(self->fault_fd));
	ASSERT_EQ(0, close(self->fd));
	/* Every request of the case was answered, exactly once. */
	ASSERT_EQ(0, unanswered_since(self->start));
}

/* A page nothing may touch: the kernel's copies from and to it fault. */
static void *no_access_page(void)
{
	void *p = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	ASSERT_NE(MAP_FAILED, p);
	return p;
}

/* Read exactly one record. */
static struct iommu_hwpt_pgfault read_one(int fault_fd)
{
	struct iommu_hwpt_pgfault rec;

	ASSERT_EQ((ssize_t)REC, read(fault_fd, &rec, sizeof(rec)));
	return rec;
}

/* --- IOMMU_FAULT_QUEUE_ALLOC ---------------------------------------------- */

TEST_F(fault, alloc_gives_an_anonymous_cloexec_read_write_fd)
{
	char path[64], link[128];
	ssize_t n;

	ASSERT_NE(0, self->fault_id);
	EXPECT_EQ(FD_CLOEXEC, fcntl(self->fault_fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(self->fault_fd, F_GETFL) & O_ACCMODE);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", self->fault_fd);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_GT(n, 0);
	link[n] = 0;
	EXPECT_EQ(0, strcmp(link, "anon_inode:[iommufd-pgfault]"));
	EXPECT_EQ(self->fault_id,
		  queue_fdinfo(self->fault_fd, "iommufd-fault-id"));
	EXPECT_EQ(0, queue_fdinfo(self->fault_fd, "iommufd-fault-unread"));
	/* Not seekable, as upstream's. */
	EXPECT_ERRNO(ESPIPE, lseek(self->fault_fd, 0, SEEK_SET));
	EXPECT_EQ(1, fdinfo_faults(self->fd));
}

TEST_F(fault, alloc_refuses_flags_short_sizes_and_non_zero_tails)
{
	struct {
		struct iommu_fault_alloc cmd;
		uint64_t tail;
	} big = { .cmd = { .size = sizeof(big) } };
	struct iommu_fault_alloc cmd = { .size = sizeof(cmd), .flags = 1 };

	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_FAULT_QUEUE_ALLOC, &cmd));
	cmd.flags = 1u << 31;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_FAULT_QUEUE_ALLOC, &cmd));
	/* Every field is mandatory: out_fault_fd is the last one. */
	cmd.flags = 0;
	cmd.size = offsetof(struct iommu_fault_alloc, out_fault_fd);
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOMMU_FAULT_QUEUE_ALLOC, &cmd));
	big.tail = 1;
	EXPECT_ERRNO(E2BIG, ioctl(self->fd, IOMMU_FAULT_QUEUE_ALLOC, &big));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, IOMMU_FAULT_QUEUE_ALLOC, NULL));
	/* None of these made a queue. */
	EXPECT_EQ(1, fdinfo_faults(self->fd));
	/* A zero tail is fine. */
	big.tail = 0;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_FAULT_QUEUE_ALLOC, &big));
	EXPECT_EQ(2, fdinfo_faults(self->fd));
	EXPECT_EQ(0, close(big.cmd.out_fault_fd));
	EXPECT_EQ(0, destroy(self->fd, big.cmd.out_fault_id));
	EXPECT_EQ(1, fdinfo_faults(self->fd));
}

/*
 * An answer that cannot be written back leaves neither a queue nor a file
 * descriptor behind.
 */
TEST_F(fault, alloc_with_a_read_only_argument_leaves_nothing_behind)
{
	struct iommu_fault_alloc *cmd;
	int next_fd = dup(self->fd);

	ASSERT_GE(next_fd, 0);
	close(next_fd);
	cmd = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, cmd);
	cmd->size = sizeof(*cmd);
	ASSERT_EQ(0, mprotect(cmd, PAGE, PROT_READ));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, IOMMU_FAULT_QUEUE_ALLOC, cmd));
	EXPECT_EQ(1, fdinfo_faults(self->fd));
	/* The descriptor it had reserved is free again. */
	EXPECT_EQ(next_fd, dup(self->fd));
	close(next_fd);
	munmap(cmd, PAGE);
}

/* --- HWPTs with a fault queue ---------------------------------------------- */

TEST_F(fault, hwpt_alloc_answers_enoent_for_ids_that_are_no_fault_queue)
{
	uint32_t hwpt_id;

	EXPECT_ERRNO(ENOENT, hwpt_alloc_nested(self->fd, self->dev.idev_id,
					       self->parent_id,
					       IOMMU_HWPT_FAULT_ID_VALID,
					       NO_SUCH_ID, &hwpt_id));
	EXPECT_ERRNO(ENOENT, hwpt_alloc_nested(self->fd, self->dev.idev_id,
					       self->parent_id,
					       IOMMU_HWPT_FAULT_ID_VALID, 0,
					       &hwpt_id));
	/* Objects of other types. */
	EXPECT_ERRNO(ENOENT, hwpt_alloc_nested(self->fd, self->dev.idev_id,
					       self->parent_id,
					       IOMMU_HWPT_FAULT_ID_VALID,
					       self->ioas_id, &hwpt_id));
	EXPECT_ERRNO(ENOENT, hwpt_alloc_nested(self->fd, self->dev.idev_id,
					       self->parent_id,
					       IOMMU_HWPT_FAULT_ID_VALID,
					       self->hwpt_id, &hwpt_id));
	/* Unknown flags first, as upstream: the queue is looked up last. */
	EXPECT_ERRNO(EOPNOTSUPP,
		     hwpt_alloc_nested(self->fd, self->dev.idev_id,
				       self->parent_id,
				       IOMMU_HWPT_FAULT_ID_VALID | (1u << 31),
				       NO_SUCH_ID, &hwpt_id));
	/* Without the flag the field is not read. */
	ASSERT_EQ(0, hwpt_alloc_nested(self->fd, self->dev.idev_id,
				       self->parent_id, 0, NO_SUCH_ID,
				       &hwpt_id));
	EXPECT_EQ(0, destroy(self->fd, hwpt_id));
}

/* 6.12's rule: a paging HWPT, nest parent or not, takes no fault queue. */
TEST_F(fault, paging_hwpts_take_no_fault_queue)
{
	uint32_t hwpt_id;

	EXPECT_ERRNO(EOPNOTSUPP, hwpt_alloc(self->fd, self->dev.idev_id,
					    self->ioas_id,
					    IOMMU_HWPT_FAULT_ID_VALID,
					    self->fault_id, &hwpt_id));
	EXPECT_ERRNO(EOPNOTSUPP, hwpt_alloc(self->fd, self->dev.idev_id,
					    self->ioas_id,
					    IOMMU_HWPT_ALLOC_NEST_PARENT |
					    IOMMU_HWPT_FAULT_ID_VALID,
					    self->fault_id, &hwpt_id));
	/* Upstream's own case: with no queue named at all. */
	EXPECT_ERRNO(EOPNOTSUPP, hwpt_alloc(self->fd, self->dev.idev_id,
					    self->ioas_id,
					    IOMMU_HWPT_ALLOC_NEST_PARENT |
					    IOMMU_HWPT_FAULT_ID_VALID,
					    0, &hwpt_id));
}

TEST_F(fault, queue_is_busy_while_its_file_is_open_or_a_hwpt_uses_it)
{
	uint32_t hwpt2;

	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->fault_id));
	ASSERT_EQ(0, hwpt_alloc_nested(self->fd, self->dev.idev_id,
				       self->parent_id,
				       IOMMU_HWPT_FAULT_ID_VALID,
				       self->fault_id, &hwpt2));
	ASSERT_EQ(0, close(self->fault_fd));
	self->fault_fd = -1;
	/* Two HWPTs use it. */
	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->fault_id));
	EXPECT_EQ(0, destroy(self->fd, hwpt2));
	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->fault_id));
	/* The device uses the HWPT, which uses the queue. */
	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->hwpt_id));
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				      self->ioas_id, NULL));
	EXPECT_EQ(0, destroy(self->fd, self->hwpt_id));
	EXPECT_EQ(0, destroy(self->fd, self->fault_id));
	EXPECT_EQ(0, fdinfo_faults(self->fd));
	EXPECT_ERRNO(ENOENT, destroy(self->fd, self->fault_id));
}

/* --- IOMMU_TEST_OP_TRIGGER_IOPF and read() -------------------------------- */

TEST_F(fault, trigger_answers_enoent_for_ids_that_are_no_device)
{
	EXPECT_ERRNO(ENOENT, trigger(self->fd, NO_SUCH_ID, 0, 1, 0x1000));
	EXPECT_ERRNO(ENOENT, trigger(self->fd, self->ioas_id, 0, 1, 0x1000));
	EXPECT_ERRNO(ENOENT, trigger(self->fd, self->dev.stdev_id, 0, 1,
				     0x1000));
	EXPECT_EQ(0, unanswered_since(self->start));
}

TEST_F(fault, read_returns_the_fault_as_the_device_made_it)
{
	struct iommu_hwpt_pgfault rec;

	ASSERT_EQ(0, trigger(self->fd, self->dev.idev_id, 0, 7, 0x123456));
	EXPECT_EQ(1, unanswered_since(self->start));
	rec = read_one(self->fault_fd);
	EXPECT_EQ(IOMMU_PGFAULT_FLAGS_LAST_PAGE, rec.flags);
	EXPECT_EQ(self->dev.idev_id, rec.dev_id);
	EXPECT_EQ(0, rec.pasid);
	EXPECT_EQ(7, rec.grpid);
	EXPECT_EQ(IOMMU_PGFAULT_PERM_READ | IOMMU_PGFAULT_PERM_WRITE, rec.perm);
	EXPECT_EQ(0, rec.__reserved);
	EXPECT_EQ(0x123456, rec.addr);
	EXPECT_EQ(0, rec.length);
	EXPECT_NE(0, rec.cookie);
	/* Read once: nothing more to read. */
	EXPECT_EQ(0, read(self->fault_fd, &rec, sizeof(rec)));
	EXPECT_EQ(1, unanswered_since(self->start));
	ASSERT_EQ((ssize_t)ANS, answer(self->fault_fd, rec.cookie,
				       IOMMUFD_PAGE_RESP_SUCCESS));
	EXPECT_EQ(1, success_since(self->start));
	EXPECT_EQ(0, unanswered_since(self->start));
}

TEST_F(fault, read_of_an_empty_queue_returns_nothing_without_blocking)
{
	struct iommu_hwpt_pgfault rec[2];

	EXPECT_EQ(0, read(self->fault_fd, rec, sizeof(rec)));
	EXPECT_EQ(0, read(self->fault_fd, rec, 0));
}

TEST_F(fault, read_takes_whole_records_and_no_position)
{
	struct iommu_hwpt_pgfault rec[2];

	ASSERT_EQ(0, trigger(self->fd, self->dev.idev_id, 0, 1, 0x1000));
	EXPECT_ERRNO(ESPIPE, read(self->fault_fd, rec, REC - 1));
	EXPECT_ERRNO(ESPIPE, read(self->fault_fd, rec, REC + 1));
	EXPECT_ERRNO(ESPIPE, read(self->fault_fd, rec, 1));
	EXPECT_ERRNO(ESPIPE, pread(self->fault_fd, rec, REC, REC));
	/* No room for the group waiting (one record): EINVAL. */
	EXPECT_ERRNO(EINVAL, read(self->fault_fd, rec, 0));
	/* It is still there. */
	rec[0] = read_one(self->fault_fd);
	EXPECT_EQ(1, rec[0].grpid);
	ASSERT_EQ((ssize_t)ANS, answer(self->fault_fd, rec[0].cookie,
				       IOMMUFD_PAGE_RESP_INVALID));
	EXPECT_EQ(1, invalid_since(self->start));
}

TEST_F(fault, read_into_a_bad_buffer_faults_and_keeps_the_group)
{
	struct iommu_hwpt_pgfault rec;
	void *ro;

	ASSERT_EQ(0, trigger(self->fd, self->dev.idev_id, 0, 3, 0x3000));
	ro = no_access_page();
	EXPECT_ERRNO(EFAULT, read(self->fault_fd, ro, REC));
	munmap(ro, PAGE);
	ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	EXPECT_ERRNO(EFAULT, read(self->fault_fd, ro, REC));
	munmap(ro, PAGE);
	rec = read_one(self->fault_fd);
	EXPECT_EQ(3, rec.grpid);
	ASSERT_EQ((ssize_t)ANS, answer(self->fault_fd, rec.cookie,
				       IOMMUFD_PAGE_RESP_SUCCESS));
}

TEST_F(fault, read_returns_as_many_groups_as_fit_oldest_first)
{
	struct iommu_hwpt_pgfault rec[4];
	uint32_t grp;

	for (grp = 1; grp <= 3; grp++)
		ASSERT_EQ(0, trigger(self->fd, self->dev.idev_id, 0, grp,
				     grp * 0x1000));
	ASSERT_EQ((ssize_t)(2 * REC), read(self->fault_fd, rec, 2 * REC));
	EXPECT_EQ(1, rec[0].grpid);
	EXPECT_EQ(2, rec[1].grpid);
	EXPECT_NE(rec[0].cookie, rec[1].cookie);
	/* A larger buffer than needed gets what there is. */
	ASSERT_EQ((ssize_t)REC, read(self->fault_fd, &rec[2], 2 * REC));
	EXPECT_EQ(3, rec[2].grpid);
	EXPECT_NE(rec[2].cookie, rec[0].cookie);
	EXPECT_NE(rec[2].cookie, rec[1].cookie);
	EXPECT_EQ(3, unanswered_since(self->start));
	/* Answers are taken in any order. */
	ASSERT_EQ((ssize_t)ANS, answer(self->fault_fd, rec[2].cookie,
				       IOMMUFD_PAGE_RESP_SUCCESS));
	ASSERT_EQ((ssize_t)ANS, answer(self->fault_fd, rec[0].cookie,
				       IOMMUFD_PAGE_RESP_INVALID));
	ASSERT_EQ((ssize_t)ANS, answer(self->fault_fd, rec[1].cookie,
				       IOMMUFD_PAGE_RESP_SUCCESS));
	EXPECT_EQ(2, success_since(self->start));
	EXPECT_EQ(1, invalid_since(self->start));
}

/* --- write() ---------------------------------------------------------------- */

TEST_F(fault, write_takes_whole_answers_with_known_cookies_and_codes)
{
	struct iommu_hwpt_page_response resp[2] = {};
	struct iommu_hwpt_pgfault rec;
	void *bad;

	ASSERT_EQ(0, trigger(self->fd, self->dev.idev_id, 0, 1, 0x1000));
	rec = read_one(self->fault_fd);

	EXPECT_ERRNO(ESPIPE, write(self->fault_fd, resp, ANS - 1));
	EXPECT_ERRNO(ESPIPE, write(self->fault_fd, resp, ANS + 4));
	EXPECT_ERRNO(ESPIPE, pwrite(self->fault_fd, resp, ANS, ANS));
	EXPECT_EQ(0, write(self->fault_fd, resp, 0));
	/* Cookie 0 is never handed out; nor one never read. */
	EXPECT_ERRNO(EINVAL, answer(self->fault_fd, 0,
				    IOMMUFD_PAGE_RESP_SUCCESS));
	EXPECT_ERRNO(EINVAL, answer(self->fault_fd, rec.cookie + 1,
				    IOMMUFD_PAGE_RESP_SUCCESS));
	EXPECT_ERRNO(EINVAL, answer(self->fault_fd, rec.cookie, 2));
	EXPECT_ERRNO(EINVAL, answer(self->fault_fd, rec.cookie, UINT32_MAX));
	bad = no_access_page();
	EXPECT_ERRNO(EFAULT, write(self->fault_fd, bad, ANS));
	munmap(bad, PAGE);
	/* Still waiting after all these. */
	EXPECT_EQ(1, unanswered_since(self->start));
	ASSERT_EQ((ssize_t)ANS, answer(self->fault_fd, rec.cookie,
				       IOMMUFD_PAGE_RESP_SUCCESS));
	/* Once only. */
	EXPECT_ERRNO(EINVAL, answer(self->fault_fd, rec.cookie,
				    IOMMUFD_PAGE_RESP_SUCCESS));
	EXPECT_EQ(1, success_since(self->start));
	EXPECT_EQ(0, invalid_since(self->start));
}

TEST_F(fault, write_applies_answers_up_to_the_first_bad_one)
{
	struct iommu_hwpt_page_response resp[3];
	struct iommu_hwpt_pgfault rec[2];

	ASSERT_EQ(0, trigger(self->fd, self->dev.idev_id, 0, 1, 0x1000));
	ASSERT_EQ(0, trigger(self->fd, self->dev.idev_id, 0, 2, 0x2000));
	ASSERT_EQ((ssize_t)(2 * REC), read(self->fault_fd, rec, sizeof(rec)));
	resp[0] = (struct iommu_hwpt_page_response){
		.cookie = rec[0].cookie, .code = IOMMUFD_PAGE_RESP_SUCCESS };
	resp[1] = (struct iommu_hwpt_page_response){
		.cookie = NO_SUCH_ID, .code = IOMMUFD_PAGE_RESP_SUCCESS };
	resp[2] = (struct iommu_hwpt_page_response){
		.cookie = rec[1].cookie, .code = IOMMUFD_PAGE_RESP_SUCCESS };
	/* The first is applied, the second stops it: 8 bytes written. */
	EXPECT_EQ((ssize_t)ANS, write(self->fault_fd, resp, sizeof(resp)));
	EXPECT_EQ(1, success_since(self->start));
	/* Now the first is unknown: nothing applied, EINVAL. */
	EXPECT_ERRNO(EINVAL, write(self->fault_fd, resp, sizeof(resp)));
	/* Two good ones at once. */
	resp[1] = resp[2];
	resp[0].cookie = rec[1].cookie;
	resp[1].cookie = rec[1].cookie;
	EXPECT_EQ((ssize_t)ANS, write(self->fault_fd, resp, 2 * ANS));
	EXPECT_EQ(2, success_since(self->start));
}

/* --- poll() ----------------------------------------------------------------- */

TEST_F(fault, poll_is_always_writable_and_readable_while_a_group_waits)
{
	struct pollfd pfd = { .fd = self->fault_fd,
			      .events = POLLIN | POLLOUT };
	struct iommu_hwpt_pgfault rec;

	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLOUT, pfd.revents);
	ASSERT_EQ(0, trigger(self->fd, self->dev.idev_id, 0, 1, 0x1000));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN | POLLOUT, pfd.revents);
	rec = read_one(self->fault_fd);
	/* Read and waiting for its answer: nothing more to read. */
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLOUT, pfd.revents);
	ASSERT_EQ((ssize_t)ANS, answer(self->fault_fd, rec.cookie,
				       IOMMUFD_PAGE_RESP_SUCCESS));
}

struct poll_waiter {
	int fault_fd;
	short revents;
	int rc;
};

static void *wait_for_input(void *arg)
{
	struct poll_waiter *w = arg;
	struct pollfd pfd = { .fd = w->fault_fd, .events = POLLIN };

	w->rc = poll(&pfd, 1, 10000);
	w->revents = pfd.revents;
	return NULL;
}

TEST_F(fault, poll_wakes_up_when_the_device_faults)
{
	struct poll_waiter w = { .fault_fd = self->fault_fd };
	struct iommu_hwpt_pgfault rec;
	pthread_t thread;

	ASSERT_EQ(0, pthread_create(&thread, NULL, wait_for_input, &w));
	usleep(100000);
	ASSERT_EQ(0, trigger(self->fd, self->dev.idev_id, 0, 1, 0x1000));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	EXPECT_EQ(1, w.rc);
	EXPECT_EQ(POLLIN, w.revents);
	rec = read_one(self->fault_fd);
	ASSERT_EQ((ssize_t)ANS, answer(self->fault_fd, rec.cookie,
				       IOMMUFD_PAGE_RESP_SUCCESS));
}

/* --- requests nobody can take ------------------------------------------- */

TEST_F(fault, request_on_a_hwpt_without_queue_is_answered_at_once)
{
	struct iommu_hwpt_pgfault rec;

	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				      self->ioas_id, NULL));
	ASSERT_EQ(0, trigger(self->fd, self->dev.idev_id, 0, 1, 0x1000));
	EXPECT_EQ(1, invalid_since(self->start));
	EXPECT_EQ(0, unanswered_since(self->start));
	EXPECT_EQ(0, read(self->fault_fd, &rec, sizeof(rec)));
}

/* On the nest parent the requests, with a PASID or not, reach no queue. */
TEST_F(fault, request_on_the_nest_parent_is_answered_at_once)
{
	struct iommu_hwpt_pgfault rec;

	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				      self->parent_id, NULL));
	ASSERT_EQ(0, trigger(self->fd, self->dev.idev_id, 5, 1, 0x1000));
	ASSERT_EQ(0, trigger(self->fd, self->dev.idev_id, 0, 2, 0x2000));
	EXPECT_EQ(2, invalid_since(self->start));
	EXPECT_EQ(0, read(self->fault_fd, &rec, sizeof(rec)));
}

/* --- nested HWPTs --------------------------------------------------------- */

/*
 * Upstream's flow (its alloc_hwpt_nested): a nested HWPT with a fault
 * queue on a nest parent; the mock keeps its PASID table in the stage-1,
 * so a request with a PASID reaches the nested HWPT the device is on.
 */
TEST_F(fault, nested_hwpt_delivers_faults_with_and_without_pasid)
{
	struct iommu_hwpt_pgfault rec;
	uint32_t parent, nested;

	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev_id, self->ioas_id,
				IOMMU_HWPT_ALLOC_NEST_PARENT, 0, &parent));
	EXPECT_ERRNO(ENOENT, hwpt_alloc_nested(self->fd, self->dev.idev_id,
					       parent,
					       IOMMU_HWPT_FAULT_ID_VALID,
					       NO_SUCH_ID, &nested));
	EXPECT_ERRNO(EOPNOTSUPP,
		     hwpt_alloc_nested(self->fd, self->dev.idev_id, parent,
				       IOMMU_HWPT_FAULT_ID_VALID | (1u << 31),
				       self->fault_id, &nested));
	ASSERT_EQ(0, hwpt_alloc_nested(self->fd, self->dev.idev_id, parent,
				       IOMMU_HWPT_FAULT_ID_VALID,
				       self->fault_id, &nested));
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id, nested,
				      NULL));
	EXPECT_ERRNO(EBUSY, destroy(self->fd, nested));

	ASSERT_EQ(0, trigger(self->fd, self->dev.idev_id, 1, 2, 0xdeadbeaf));
	rec = read_one(self->fault_fd);
	EXPECT_EQ(IOMMU_PGFAULT_FLAGS_LAST_PAGE |
		  IOMMU_PGFAULT_FLAGS_PASID_VALID, rec.flags);
	EXPECT_EQ(1, rec.pasid);
	EXPECT_EQ(2, rec.grpid);
	EXPECT_EQ(0xdeadbeaf, rec.addr);
	ASSERT_EQ((ssize_t)ANS, answer(self->fault_fd, rec.cookie,
				       IOMMUFD_PAGE_RESP_SUCCESS));
	ASSERT_EQ(0, trigger(self->fd, self->dev.idev_id, 0, 3, 0x3000));
	rec = read_one(self->fault_fd);
	EXPECT_EQ(IOMMU_PGFAULT_FLAGS_LAST_PAGE, rec.flags);
	EXPECT_EQ(3, rec.grpid);
	/* Left unanswered: moving to the parent answers it. */
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id, parent,
				      NULL));
	EXPECT_EQ(1, success_since(self->start));
	EXPECT_EQ(1, invalid_since(self->start));
	/* The nest parent has no queue: nobody takes a request there. */
	ASSERT_EQ(0, trigger(self->fd, self->dev.idev_id, 1, 4, 0x4000));
	EXPECT_EQ(2, invalid_since(self->start));
	EXPECT_EQ(0, destroy(self->fd, nested));
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				      self->hwpt_id, NULL));
	EXPECT_EQ(0, destroy(self->fd, parent));
}

/* --- what becomes of pending faults ---------------------------------------- */

/* One unread group (grpid 1) and one read, waiting for its answer (2). */
static uint32_t make_unread_and_awaiting(struct ih__data_fault *self)
{
	struct iommu_hwpt_pgfault rec;

	ASSERT_EQ(0, trigger(self->fd, self->dev.idev_id, 0, 2, 0x2000));
	rec = read_one(self->fault_fd);
	ASSERT_EQ(0, trigger(self->fd, self->dev.idev_id, 0, 1, 0x1000));
	EXPECT_EQ(2, unanswered_since(self->start));
	EXPECT_EQ(1, queue_fdinfo(self->fault_fd, "iommufd-fault-unread"));
	EXPECT_EQ(1, queue_fdinfo(self->fault_fd, "iommufd-fault-awaiting"));
	return rec.cookie;
}

TEST_F(fault, closing_the_queue_answers_what_is_pending_and_what_comes)
{
	make_unread_and_awaiting(self);
	ASSERT_EQ(0, close(self->fault_fd));
	self->fault_fd = -1;
	EXPECT_EQ(2, invalid_since(self->start));
	EXPECT_EQ(0, unanswered_since(self->start));
	/* Nobody can read any more: new requests are answered at once. */
	ASSERT_EQ(0, trigger(self->fd, self->dev.idev_id, 0, 3, 0x3000));
	EXPECT_EQ(3, invalid_since(self->start));
	/* The queue itself stays while the HWPT uses it. */
	EXPECT_EQ(1, fdinfo_faults(self->fd));
}

TEST_F(fault, detaching_the_device_answers_its_pending_faults)
{
	struct iommu_hwpt_pgfault rec;
	uint32_t cookie = make_unread_and_awaiting(self);

	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				      self->ioas_id, NULL));
	EXPECT_EQ(2, invalid_since(self->start));
	EXPECT_EQ(0, unanswered_since(self->start));
	EXPECT_EQ(0, read(self->fault_fd, &rec, sizeof(rec)));
	EXPECT_ERRNO(EINVAL, answer(self->fault_fd, cookie,
				    IOMMUFD_PAGE_RESP_SUCCESS));
	EXPECT_EQ(0, success_since(self->start));
	EXPECT_EQ(0, queue_fdinfo(self->fault_fd, "iommufd-fault-unread"));
	EXPECT_EQ(0, queue_fdinfo(self->fault_fd, "iommufd-fault-awaiting"));
}

/*
 * Moving between two HWPTs of the same queue: what came under the old one
 * is answered, what comes under the new one is delivered.
 */
TEST_F(fault, replacing_the_hwpt_answers_what_came_under_the_old_one)
{
	struct iommu_hwpt_pgfault rec;
	uint32_t hwpt2;

	ASSERT_EQ(0, hwpt_alloc_nested(self->fd, self->dev.idev_id,
				       self->parent_id,
				       IOMMU_HWPT_FAULT_ID_VALID,
				       self->fault_id, &hwpt2));
	make_unread_and_awaiting(self);
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id, hwpt2,
				      NULL));
	EXPECT_EQ(2, invalid_since(self->start));
	ASSERT_EQ(0, trigger(self->fd, self->dev.idev_id, 0, 9, 0x9000));
	rec = read_one(self->fault_fd);
	EXPECT_EQ(9, rec.grpid);
	ASSERT_EQ((ssize_t)ANS, answer(self->fault_fd, rec.cookie,
				       IOMMUFD_PAGE_RESP_SUCCESS));
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				      self->hwpt_id, NULL));
	EXPECT_EQ(0, destroy(self->fd, hwpt2));
}

TEST_F(fault, unplugging_the_device_answers_its_pending_faults)
{
	make_unread_and_awaiting(self);
	ASSERT_EQ(0, destroy(self->fd, self->dev.stdev_id));
	EXPECT_EQ(2, invalid_since(self->start));
	EXPECT_EQ(0, unanswered_since(self->start));
	/* The device is gone. */
	EXPECT_ERRNO(ENOENT, trigger(self->fd, self->dev.idev_id, 0, 1, 0));
	/* The HWPT and the queue are free to go now. */
	EXPECT_EQ(0, destroy(self->fd, self->hwpt_id));
	ASSERT_EQ(0, close(self->fault_fd));
	self->fault_fd = -1;
	EXPECT_EQ(0, destroy(self->fd, self->fault_id));
}

/*
 * The queue's file holds the context: closing /dev/iommu first changes
 * nothing until the queue's file goes too, and then everything goes.
 */
TEST_F(fault, closing_the_context_before_the_queue_keeps_both_alive)
{
	struct iommu_hwpt_pgfault rec;
	uint32_t cookie = make_unread_and_awaiting(self);
	int fd2;

	ASSERT_EQ(0, close(self->fd));
	EXPECT_EQ(2, unanswered_since(self->start));
	ASSERT_EQ((ssize_t)ANS, answer(self->fault_fd, cookie,
				       IOMMUFD_PAGE_RESP_SUCCESS));
	rec = read_one(self->fault_fd);
	EXPECT_EQ(1, rec.grpid);
	EXPECT_EQ(1, unanswered_since(self->start));
	ASSERT_EQ(0, close(self->fault_fd));
	self->fault_fd = -1;
	EXPECT_EQ(1, success_since(self->start));
	EXPECT_EQ(1, invalid_since(self->start));
	/* The teardown closes a descriptor of its own. */
	fd2 = iommufd_open();
	ASSERT_EQ(self->fd, fd2);
}

/* --- races ------------------------------------------------------------------ */

struct race {
	int fd;
	int fault_fd;
	uint32_t idev_id;
	volatile bool stop;
	long triggered, answered;
};

static void *race_trigger(void *arg)
{
	struct race *r = arg;
	uint32_t grp = 0;

	while (!r->stop) {
		ASSERT_EQ(0, trigger(r->fd, r->idev_id, 0, grp++ & 0x1ff,
				     0x1000));
		__atomic_add_fetch(&r->triggered, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *race_answer(void *arg)
{
	struct iommu_hwpt_page_response resp[8];
	struct iommu_hwpt_pgfault rec[8];
	struct race *r = arg;
	ssize_t n;
	int i;

	while (!r->stop) {
		n = read(r->fault_fd, rec, sizeof(rec));
		if (n < 0) {
			/* The file was closed under us. */
			ASSERT_EQ(EBADF, errno);
			break;
		}
		for (i = 0; i < n / (ssize_t)REC; i++) {
			resp[i].cookie = rec[i].cookie;
			resp[i].code = i & 1 ? IOMMUFD_PAGE_RESP_INVALID :
					       IOMMUFD_PAGE_RESP_SUCCESS;
		}
		if (n && write(r->fault_fd, resp, i * ANS) == i * (ssize_t)ANS)
			__atomic_add_fetch(&r->answered, i, __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * Two devices fault as fast as they can while a thread reads and answers,
 * and the main thread closes the queue's file, detaches one device and
 * unplugs the other under them.  Every request must end answered once.
 * Each round logs what ran: on 6.12 under TCG some 2,500-50,000 requests
 * a round, about half of them read and answered by user space, the rest
 * answered by the close, the detach or the unplug while groups were both
 * unread and awaiting; the debug kernel (KASAN, lockdep) runs about 800.
 */
TEST_F_TIMEOUT(fault, requests_race_reads_answers_close_and_detach, 120)
{
	struct race r = { .fd = self->fd, .fault_fd = self->fault_fd,
			  .idev_id = self->dev.idev_id };
	struct race r2 = r;
	struct mock_dev dev2;
	pthread_t t[3];
	int round;

	for (round = 0; round < 20; round++) {
		int ffd;
		uint32_t fid, hwpt;

		ASSERT_EQ(0, fault_alloc(self->fd, &fid, &ffd));
		ASSERT_EQ(0, hwpt_alloc_nested(self->fd, self->dev.idev_id,
					       self->parent_id,
					       IOMMU_HWPT_FAULT_ID_VALID, fid,
					       &hwpt));
		ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
					      hwpt, NULL));
		ASSERT_EQ(0, mock_dev_add(self->fd, hwpt, &dev2));
		r.fault_fd = ffd;
		r.stop = false;
		r2 = r;
		r2.idev_id = dev2.idev_id;
		ASSERT_EQ(0, pthread_create(&t[0], NULL, race_trigger, &r));
		ASSERT_EQ(0, pthread_create(&t[1], NULL, race_trigger, &r2));
		ASSERT_EQ(0, pthread_create(&t[2], NULL, race_answer, &r));
		usleep(20000 + round * 1000);
		switch (round % 3) {
		case 0:
			/* The reader sees EBADF or reads nothing more. */
			ASSERT_EQ(0, close(ffd));
			ffd = -1;
			break;
		case 1:
			ASSERT_EQ(0, mock_dev_replace(self->fd,
						      self->dev.stdev_id,
						      self->ioas_id, NULL));
			break;
		default:
			break;
		}
		usleep(10000);
		r.stop = r2.stop = true;
		ASSERT_EQ(0, pthread_join(t[0], NULL));
		ASSERT_EQ(0, pthread_join(t[1], NULL));
		ASSERT_EQ(0, pthread_join(t[2], NULL));
		/* Unplugging dev2 answers what it still waits for. */
		ASSERT_EQ(0, destroy(self->fd, dev2.stdev_id));
		ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
					      self->ioas_id, NULL));
		EXPECT_EQ(0, unanswered_since(self->start));
		ASSERT_EQ(0, destroy(self->fd, hwpt));
		if (ffd >= 0)
			ASSERT_EQ(0, close(ffd));
		ASSERT_EQ(0, destroy(self->fd, fid));
		TEST_LOG("round %d: %ld + %ld requests, %ld answered by the reader",
			 round, r.triggered, r2.triggered, r.answered);
	}
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				      self->hwpt_id, NULL));
}

TEST_HARNESS_MAIN
