// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel iommufd API (include/linux/iommufd.h), called from kernel
 * code as VFIO calls it: the test module iommufd_kapi_test
 * (selftests/kapi/) is built against the kernel's own header with
 * CONFIG_IOMMUFD=m and links against our iommufd.ko; each ioctl of
 * /dev/iommufd_kapi_test is one call of the API.
 *
 *  - devices: QEMU's edu device bound with iommufd_device_bind() (no
 *    VFIO at all: its BAR is mapped through sysfs), attached to an IOAS
 *    and to a HWPT, replaced, detached, unbound, with real DMA checked
 *    byte for byte and the fault after an unmap;
 *  - accesses: create/attach/replace/detach, pin and rw, and the ->unmap
 *    notification that makes the module drop its pins;
 *  - contexts and the VFIO compat IOAS.
 *
 * Skips where the kernel's headers have no linux/iommufd.h (6.1: the
 * test module is not built) or the machine has no edu device.  The last
 * test unloads the test module.
 */
#include <linux/iommufd.h>

#include "iommufd_harness.h"
#include "iommufd_utils.h"
#include "kapi_utils.h"

#define BUF_SIZE	(64 * 1024)
#define IOVA_A		0x100000ULL
#define IOVA_B		0x200000ULL
#define XFER		2048

/* ATTACH or REPLACE: the HWPT the device is on afterwards. */
static int kapi_attach(int kfd, uint32_t op, uint32_t pt_id, uint32_t *out)
{
	struct kapi_test_cmd cmd = { .op = op, .id = pt_id };
	int rc = kapi(kfd, &cmd);

	if (!rc && out)
		*out = cmd.out_id;
	return rc;
}

static int kapi_has_group(int kfd, int fd, const char *name)
{
	struct kapi_test_cmd cmd = { .op = KAPI_TEST_HAS_GROUP, .fd = fd };

	snprintf(cmd.name, sizeof(cmd.name), "%s", name);
	if (kapi(kfd, &cmd))
		return -errno;
	return cmd.out_flag;
}

static struct kapi_test_cmd kapi_state(int kfd)
{
	struct kapi_test_cmd cmd = { .op = KAPI_TEST_ACCESS_STATE };

	ASSERT_EQ(0, kapi(kfd, &cmd));
	return cmd;
}

static int kapi_rw(int kfd, uint64_t iova, void *buf, uint64_t len,
		   uint32_t flags)
{
	struct kapi_test_cmd cmd = {
		.op = KAPI_TEST_ACCESS_RW,
		.iova = iova,
		.length = len,
		.uptr = (uintptr_t)buf,
		.flags = flags,
	};

	return kapi(kfd, &cmd);
}

static int kapi_pin(int kfd, uint64_t iova, uint64_t len, uint32_t flags,
		    uint32_t *first_byte)
{
	struct kapi_test_cmd cmd = {
		.op = KAPI_TEST_ACCESS_PIN,
		.iova = iova,
		.length = len,
		.flags = flags,
	};
	int rc = kapi(kfd, &cmd);

	if (!rc && first_byte)
		*first_byte = cmd.first_byte;
	return rc;
}

static int kapi_unpin(int kfd, uint64_t iova, uint64_t len)
{
	struct kapi_test_cmd cmd = {
		.op = KAPI_TEST_ACCESS_UNPIN,
		.iova = iova,
		.length = len,
	};

	return kapi(kfd, &cmd);
}

static void fill_pattern(uint8_t *buf, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + seed);
}

FIXTURE(dev) {
	struct edu edu;
	int iommufd;
	int kfd;
	uint32_t ioas_id;
	uint8_t *a, *b;
};

FIXTURE_SETUP(dev)
{
	self->kfd = kapi_open();
	if (self->kfd < 0)
		SKIP(KAPI_NO_MODULE);
	if (edu_take_driverless(&self->edu))
		SKIP("no edu device in this machine");
	self->iommufd = iommufd_open();
	self->ioas_id = ioas_alloc(self->iommufd);
	self->a = alloc_buffer(BUF_SIZE);
	self->b = alloc_buffer(BUF_SIZE);
	memset(self->a, 0, BUF_SIZE);
	memset(self->b, 0, BUF_SIZE);
}

FIXTURE_TEARDOWN(dev)
{
	/* Closing the test device unbinds whatever a failed test left. */
	close(self->kfd);
	close(self->iommufd);
	free_buffer(self->a, BUF_SIZE);
	free_buffer(self->b, BUF_SIZE);
	edu_give_back(&self->edu);
}

/* Buffer a at IOVA_A, b at IOVA_B, the bound device on the IOAS. */
#define map_both_and_attach(self)					\
	({								\
		uint32_t __hwpt;					\
									\
		ASSERT_EQ(0, ioas_map_fixed(self->iommufd, self->ioas_id, \
					    self->a, BUF_SIZE, IOVA_A));	\
		ASSERT_EQ(0, ioas_map_fixed(self->iommufd, self->ioas_id, \
					    self->b, BUF_SIZE, IOVA_B));	\
		ASSERT_EQ(0, kapi_attach(self->kfd, KAPI_TEST_ATTACH,	\
					 self->ioas_id, &__hwpt));	\
		__hwpt;							\
	})

TEST_F(dev, bind_attach_dma_detach_unbind_through_the_kernel_api)
{
	struct kapi_test_cmd info = { .op = KAPI_TEST_DEVICE_INFO };
	uint32_t dev_id, hwpt_id;

	ASSERT_EQ(0, kapi_has_group(self->kfd, self->iommufd, self->edu.bdf));
	ASSERT_EQ(0, kapi_bind(self->kfd, self->iommufd, self->edu.bdf,
			       &dev_id));
	ASSERT_NE(0, dev_id);
	ASSERT_EQ(1, kapi_has_group(self->kfd, self->iommufd, self->edu.bdf));
	info.fd = self->iommufd;
	ASSERT_EQ(0, kapi(self->kfd, &info));
	ASSERT_EQ(dev_id, info.out_id);
	ASSERT_EQ(1, info.out_flag);
	/* The bound device is its driver's: user space cannot destroy it. */
	ASSERT_ERRNO(EBUSY, destroy(self->iommufd, dev_id));

	hwpt_id = map_both_and_attach(self);
	/* An IOAS gets an automatic HWPT, whose id comes back. */
	ASSERT_NE(self->ioas_id, hwpt_id);
	ASSERT_NE(0, hwpt_id);
	ASSERT_ERRNO(EBUSY, destroy(self->iommufd, self->ioas_id));

	fill_pattern(self->a, 512 + XFER, 3);
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_A + 512, 0, XFER, 0));
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_B + 1024, 0, XFER, 1));
	ASSERT_EQ(0, memcmp(self->a + 512, self->b + 1024, XFER));
	ASSERT_EQ(0, self->b[1023]);
	ASSERT_EQ(0, self->b[1024 + XFER]);

	/* Detached, the group's DMA is blocked: nothing reaches memory. */
	ASSERT_EQ(0, kapi_op(self->kfd, KAPI_TEST_DETACH, -1, 0));
	memset(self->b, 0, BUF_SIZE);
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_B, 0, XFER, 1));
	ASSERT_EQ(0, self->b[0]);
	ASSERT_EQ(0, self->b[XFER - 1]);
	/* The automatic HWPT went with its last device. */
	ASSERT_ERRNO(ENOENT, destroy(self->iommufd, hwpt_id));

	ASSERT_EQ(0, kapi_op(self->kfd, KAPI_TEST_UNBIND, -1, 0));
	ASSERT_EQ(0, kapi_has_group(self->kfd, self->iommufd, self->edu.bdf));
	ASSERT_ERRNO(ENOENT, destroy(self->iommufd, dev_id));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas_id));
}

TEST_F(dev, after_unmap_the_device_faults_and_a_new_map_restores_dma)
{
	uint32_t hwpt_id;

	ASSERT_EQ(0, kapi_bind(self->kfd, self->iommufd, self->edu.bdf, NULL));
	hwpt_id = map_both_and_attach(self);
	fill_pattern(self->a, XFER, 4);
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_A, 0, XFER, 0));

	ASSERT_EQ(0, ioas_unmap_range(self->iommufd, self->ioas_id, IOVA_B,
				      BUF_SIZE));
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_B, 0, XFER, 1));
	ASSERT_EQ(0, self->b[0]);
	ASSERT_EQ(0, self->b[XFER - 1]);

	ASSERT_EQ(0, ioas_map_fixed(self->iommufd, self->ioas_id, self->b,
				    BUF_SIZE, IOVA_B));
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_B, 0, XFER, 1));
	ASSERT_EQ(0, memcmp(self->a, self->b, XFER));
	/* Unbinding an attached device detaches it first. */
	ASSERT_EQ(0, kapi_op(self->kfd, KAPI_TEST_UNBIND, -1, 0));
	ASSERT_ERRNO(ENOENT, destroy(self->iommufd, hwpt_id));
}

TEST_F(dev, replace_moves_dma_to_another_ioas_and_to_a_hwpt)
{
	uint32_t ioas2 = ioas_alloc(self->iommufd);
	uint32_t dev_id, hwpt1, hwpt2, hwpt3, out;

	ASSERT_EQ(0, kapi_bind(self->kfd, self->iommufd, self->edu.bdf,
			       &dev_id));
	/* Attach first, replace after: each refuses the other's case. */
	ASSERT_ERRNO(EINVAL, kapi_attach(self->kfd, KAPI_TEST_REPLACE,
					 self->ioas_id, NULL));
	ASSERT_EQ(0, ioas_map_fixed(self->iommufd, self->ioas_id, self->a,
				    BUF_SIZE, IOVA_A));
	ASSERT_EQ(0, ioas_map_fixed(self->iommufd, ioas2, self->b, BUF_SIZE,
				    IOVA_A));
	ASSERT_EQ(0, kapi_attach(self->kfd, KAPI_TEST_ATTACH, self->ioas_id,
				 &hwpt1));
	ASSERT_ERRNO(EINVAL, kapi_attach(self->kfd, KAPI_TEST_ATTACH, ioas2,
					 NULL));
	ASSERT_ERRNO(ENOENT, kapi_attach(self->kfd, KAPI_TEST_REPLACE,
					 0xfffff, NULL));

	fill_pattern(self->a, XFER, 5);
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_A, 0, XFER, 0));
	ASSERT_EQ(0, kapi_attach(self->kfd, KAPI_TEST_REPLACE, ioas2, &hwpt2));
	ASSERT_NE(hwpt1, hwpt2);
	/* The old automatic HWPT went with the move. */
	ASSERT_ERRNO(ENOENT, destroy(self->iommufd, hwpt1));
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_A, 0, XFER, 1));
	ASSERT_EQ(0, memcmp(self->a, self->b, XFER));

	/* Replacing with what it is on is a no-op with the same answer. */
	ASSERT_EQ(0, kapi_attach(self->kfd, KAPI_TEST_REPLACE, ioas2, &out));
	ASSERT_EQ(hwpt2, out);

	/* A HWPT made by user space for the device, by id. */
	ASSERT_EQ(0, hwpt_alloc_data(self->iommufd, dev_id, self->ioas_id, 0,
				     IOMMU_HWPT_DATA_NONE, NULL, 0, &hwpt3));
	ASSERT_EQ(0, kapi_attach(self->kfd, KAPI_TEST_REPLACE, hwpt3, &out));
	ASSERT_EQ(hwpt3, out);
	ASSERT_ERRNO(EBUSY, destroy(self->iommufd, hwpt3));
	/* Through it, the device reaches the first IOAS's memory again. */
	fill_pattern(self->a, XFER, 6);
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_A, 0, XFER, 0));
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_A + XFER, 0, XFER, 1));
	ASSERT_EQ(0, memcmp(self->a, self->a + XFER, XFER));
	ASSERT_EQ(0, kapi_op(self->kfd, KAPI_TEST_DETACH, -1, 0));
	ASSERT_EQ(0, destroy(self->iommufd, hwpt3));
	ASSERT_EQ(0, kapi_op(self->kfd, KAPI_TEST_UNBIND, -1, 0));
	ASSERT_EQ(0, destroy(self->iommufd, ioas2));
}

TEST_F(dev, bind_refuses_what_is_not_a_device_or_not_an_iommufd)
{
	int null = open("/dev/null", O_RDWR);
	uint32_t dev_id;

	ASSERT_LE(0, null);
	ASSERT_ERRNO(ENODEV, kapi_bind(self->kfd, self->iommufd,
				       "0000:ff:1f.7", NULL));
	ASSERT_ERRNO(EBADFD, kapi_bind(self->kfd, null, self->edu.bdf, NULL));
	ASSERT_ERRNO(EBADF, kapi_bind(self->kfd, -1, self->edu.bdf, NULL));
	ASSERT_EQ(0, kapi_bind(self->kfd, self->iommufd, self->edu.bdf,
			       &dev_id));
	ASSERT_EQ(0, kapi_op(self->kfd, KAPI_TEST_UNBIND, -1, 0));
	close(null);
}

/*
 * The context owns the group's DMA: another context is refused (the
 * kernel's EPERM); a second device object of the same context shares the
 * group, and the group's one domain.
 */
TEST_F(dev, the_group_belongs_to_one_context_and_its_devices_share_a_domain)
{
	int other = iommufd_open();
	int kfd2 = kapi_open();
	uint32_t dev1, dev2, hwpt1, hwpt2, hwpt3;
	uint32_t ioas2 = ioas_alloc(self->iommufd);

	ASSERT_LE(0, kfd2);
	ASSERT_EQ(0, kapi_bind(self->kfd, self->iommufd, self->edu.bdf,
			       &dev1));
	ASSERT_ERRNO(EPERM, kapi_bind(kfd2, other, self->edu.bdf, NULL));
	ASSERT_EQ(0, kapi_has_group(kfd2, other, self->edu.bdf));

	ASSERT_EQ(0, kapi_bind(kfd2, self->iommufd, self->edu.bdf, &dev2));
	ASSERT_NE(dev1, dev2);
	ASSERT_EQ(0, kapi_attach(self->kfd, KAPI_TEST_ATTACH, self->ioas_id,
				 &hwpt1));
	ASSERT_EQ(0, kapi_attach(kfd2, KAPI_TEST_ATTACH, self->ioas_id,
				 &hwpt2));
	ASSERT_EQ(hwpt1, hwpt2);
	/* One of them alone cannot take the group elsewhere. */
	ASSERT_ERRNO(EINVAL, kapi_attach(kfd2, KAPI_TEST_REPLACE, ioas2,
					 &hwpt3));
	ASSERT_EQ(0, kapi_op(self->kfd, KAPI_TEST_DETACH, -1, 0));
	ASSERT_EQ(0, kapi_attach(kfd2, KAPI_TEST_REPLACE, ioas2, &hwpt3));
	ASSERT_NE(hwpt1, hwpt3);
	ASSERT_ERRNO(ENOENT, destroy(self->iommufd, hwpt1));

	/* The group stays the context's until its last device goes. */
	ASSERT_EQ(0, kapi_op(self->kfd, KAPI_TEST_UNBIND, -1, 0));
	ASSERT_EQ(1, kapi_has_group(kfd2, self->iommufd, self->edu.bdf));
	ASSERT_ERRNO(EPERM, kapi_bind(self->kfd, other, self->edu.bdf, NULL));
	close(kfd2);
	ASSERT_EQ(0, kapi_has_group(self->kfd, self->iommufd, self->edu.bdf));
	ASSERT_EQ(0, kapi_bind(self->kfd, other, self->edu.bdf, NULL));
	ASSERT_EQ(0, kapi_op(self->kfd, KAPI_TEST_UNBIND, -1, 0));
	close(other);
}

/* --- accesses ---------------------------------------------------------- */

FIXTURE(acc) {
	int iommufd;
	int kfd;
	uint32_t ioas_id;
	uint8_t *buf;
};

FIXTURE_SETUP(acc)
{
	self->kfd = kapi_open();
	if (self->kfd < 0)
		SKIP(KAPI_NO_MODULE);
	self->iommufd = iommufd_open();
	self->ioas_id = ioas_alloc(self->iommufd);
	self->buf = alloc_buffer(BUF_SIZE);
	ASSERT_EQ(0, ioas_map_fixed(self->iommufd, self->ioas_id, self->buf,
				    BUF_SIZE, IOVA_A));
}

FIXTURE_TEARDOWN(acc)
{
	close(self->kfd);
	close(self->iommufd);
	free_buffer(self->buf, BUF_SIZE);
}

static uint32_t acc_create(int kfd, int fd, uint32_t flags)
{
	struct kapi_test_cmd cmd = {
		.op = KAPI_TEST_ACCESS_CREATE,
		.fd = fd,
		.flags = flags,
	};

	ASSERT_EQ(0, kapi(kfd, &cmd));
	ASSERT_NE(0, cmd.out_id);
	return cmd.out_id;
}

TEST_F(acc, rw_copies_at_any_alignment_and_answers_the_range_errors)
{
	uint8_t out[300], in[300];

	acc_create(self->kfd, self->iommufd, 0);
	/* Not attached: nothing to reach. */
	ASSERT_ERRNO(ENOENT, kapi_rw(self->kfd, IOVA_A, out, 8, 0));
	ASSERT_EQ(0, kapi_op(self->kfd, KAPI_TEST_ACCESS_ATTACH, -1,
			     self->ioas_id));

	fill_pattern(out, sizeof(out), 7);
	ASSERT_EQ(0, kapi_rw(self->kfd, IOVA_A + PAGE - 100, out, sizeof(out),
			     KAPI_TEST_WRITE));
	ASSERT_EQ(0, memcmp(self->buf + PAGE - 100, out, sizeof(out)));
	memset(in, 0, sizeof(in));
	ASSERT_EQ(0, kapi_rw(self->kfd, IOVA_A + PAGE - 100, in, sizeof(in),
			     KAPI_TEST_KTHREAD));
	ASSERT_EQ(0, memcmp(in, out, sizeof(in)));

	ASSERT_ERRNO(ENOENT, kapi_rw(self->kfd, IOVA_A + BUF_SIZE - 8, in, 16,
				     0));
	ASSERT_ERRNO(ENOENT, kapi_rw(self->kfd, IOVA_B, in, 16, 0));
	ASSERT_ERRNO(EINVAL, kapi_rw(self->kfd, IOVA_A, in, 0, 0));
	ASSERT_ERRNO(EOVERFLOW, kapi_rw(self->kfd, UINT64_MAX - 8, in, 16, 0));
	/* A copying access may not pin. */
	ASSERT_ERRNO(EINVAL, kapi_pin(self->kfd, IOVA_A, PAGE, 0, NULL));

	ASSERT_EQ(0, kapi_op(self->kfd, KAPI_TEST_ACCESS_DETACH, -1, 0));
	ASSERT_ERRNO(ENOENT, kapi_rw(self->kfd, IOVA_A, in, 8, 0));
	ASSERT_EQ(0, kapi_op(self->kfd, KAPI_TEST_ACCESS_DESTROY, -1, 0));
}

TEST_F(acc, an_unmap_asks_the_access_to_drop_its_pins_and_then_succeeds)
{
	struct kapi_test_cmd st;
	uint32_t first;

	acc_create(self->kfd, self->iommufd, KAPI_TEST_PIN);
	ASSERT_EQ(0, kapi_op(self->kfd, KAPI_TEST_ACCESS_ATTACH, -1,
			     self->ioas_id));
	/* The IOAS is in use by the access. */
	ASSERT_ERRNO(EBUSY, destroy(self->iommufd, self->ioas_id));

	self->buf[2 * PAGE] = 0x5a;
	ASSERT_EQ(0, kapi_pin(self->kfd, IOVA_A + 2 * PAGE, 2 * PAGE,
			      KAPI_TEST_WRITE, &first));
	ASSERT_EQ(0x5a, first);
	ASSERT_ERRNO(ENOENT, kapi_pin(self->kfd, IOVA_A + BUF_SIZE - PAGE,
				      2 * PAGE, 0, NULL));
	ASSERT_ERRNO(EINVAL, kapi_pin(self->kfd, IOVA_A, 0, 0, NULL));
	st = kapi_state(self->kfd);
	ASSERT_EQ(2, st.pinned_pages);
	ASSERT_EQ(0, st.unmap_calls);

	/* Unpinning by hand needs no callback. */
	ASSERT_EQ(0, kapi_pin(self->kfd, IOVA_A, PAGE, 0, NULL));
	ASSERT_EQ(3, kapi_state(self->kfd).pinned_pages);
	ASSERT_EQ(0, kapi_unpin(self->kfd, IOVA_A, PAGE));
	st = kapi_state(self->kfd);
	ASSERT_EQ(2, st.pinned_pages);
	ASSERT_EQ(0, st.unmap_calls);
	/* Detaching tells the access to drop everything first. */
	ASSERT_EQ(0, kapi_op(self->kfd, KAPI_TEST_ACCESS_DETACH, -1, 0));
	st = kapi_state(self->kfd);
	ASSERT_EQ(0, st.pinned_pages);
	ASSERT_EQ(1, st.unmap_calls);
	ASSERT_EQ(0, st.unmap_iova);
	ASSERT_EQ(UINT64_MAX, st.unmap_length);

	ASSERT_EQ(0, kapi_op(self->kfd, KAPI_TEST_ACCESS_ATTACH, -1,
			     self->ioas_id));
	ASSERT_EQ(0, kapi_pin(self->kfd, IOVA_A + 2 * PAGE, 2 * PAGE, 0,
			      NULL));
	/* The unmap goes through once the callback has dropped the pin. */
	ASSERT_EQ(0, ioas_unmap_range(self->iommufd, self->ioas_id, IOVA_A,
				      BUF_SIZE));
	st = kapi_state(self->kfd);
	ASSERT_EQ(0, st.pinned_pages);
	ASSERT_EQ(2, st.unmap_calls);
	ASSERT_EQ(IOVA_A, st.unmap_iova);
	ASSERT_EQ(BUF_SIZE, st.unmap_length);
	ASSERT_EQ(0, kapi_op(self->kfd, KAPI_TEST_ACCESS_DESTROY, -1, 0));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas_id));
}

/* VFIO destroys an emulated device's access without detaching it. */
TEST_F(acc, destroying_an_attached_access_asks_for_its_pins_first)
{
	struct kapi_test_cmd cmd = {
		.op = KAPI_TEST_ACCESS_DESTROY,
		.flags = KAPI_TEST_KEEP_PINS,
	};
	struct kapi_test_cmd st;

	acc_create(self->kfd, self->iommufd, KAPI_TEST_PIN);
	ASSERT_EQ(0, kapi_op(self->kfd, KAPI_TEST_ACCESS_ATTACH, -1,
			     self->ioas_id));
	ASSERT_EQ(0, kapi_pin(self->kfd, IOVA_A, 3 * PAGE, KAPI_TEST_WRITE,
			      NULL));
	ASSERT_EQ(0, kapi(self->kfd, &cmd));
	st = kapi_state(self->kfd);
	ASSERT_EQ(0, st.pinned_pages);
	ASSERT_EQ(1, st.unmap_calls);
	ASSERT_EQ(UINT64_MAX, st.unmap_length);
	/* Nothing holds the IOAS or its pages any more. */
	ASSERT_EQ(0, ioas_unmap_range(self->iommufd, self->ioas_id, IOVA_A,
				      BUF_SIZE));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas_id));
}

TEST_F(acc, replace_tells_the_access_to_drop_everything_first)
{
	uint32_t ioas2 = ioas_alloc(self->iommufd);
	uint8_t byte = 0;
	struct kapi_test_cmd st;

	acc_create(self->kfd, self->iommufd, KAPI_TEST_PIN);
	ASSERT_ERRNO(ENOENT, kapi_op(self->kfd, KAPI_TEST_ACCESS_REPLACE, -1,
				     ioas2));
	ASSERT_ERRNO(ENOENT, kapi_op(self->kfd, KAPI_TEST_ACCESS_ATTACH, -1,
				     0xfffff));
	ASSERT_EQ(0, kapi_op(self->kfd, KAPI_TEST_ACCESS_ATTACH, -1,
			     self->ioas_id));
	ASSERT_EQ(0, kapi_pin(self->kfd, IOVA_A, PAGE, 0, NULL));
	/* A replace that fails changes nothing, pins included. */
	ASSERT_ERRNO(ENOENT, kapi_op(self->kfd, KAPI_TEST_ACCESS_REPLACE, -1,
				     0xfffff));
	st = kapi_state(self->kfd);
	ASSERT_EQ(1, st.pinned_pages);
	ASSERT_EQ(0, st.unmap_calls);
	ASSERT_EQ(0, kapi_op(self->kfd, KAPI_TEST_ACCESS_REPLACE, -1, ioas2));
	st = kapi_state(self->kfd);
	ASSERT_EQ(0, st.pinned_pages);
	ASSERT_EQ(1, st.unmap_calls);
	ASSERT_EQ(UINT64_MAX, st.unmap_length);
	/* Now it reaches the other IOAS, where nothing is mapped. */
	ASSERT_ERRNO(ENOENT, kapi_rw(self->kfd, IOVA_A, &byte, 1, 0));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas_id));
	ASSERT_ERRNO(EBUSY, destroy(self->iommufd, ioas2));
	ASSERT_EQ(0, kapi_op(self->kfd, KAPI_TEST_ACCESS_DESTROY, -1, 0));
	ASSERT_EQ(0, destroy(self->iommufd, ioas2));
}

/* --- contexts and the VFIO compat IOAS ---------------------------------- */

TEST_F(acc, ctx_from_file_takes_only_iommufd_files)
{
	int null = open("/dev/null", O_RDWR);

	ASSERT_LE(0, null);
	ASSERT_EQ(0, kapi_op(self->kfd, KAPI_TEST_CTX_FROM_FILE,
			     self->iommufd, 0));
	ASSERT_ERRNO(EBADFD, kapi_op(self->kfd, KAPI_TEST_CTX_FROM_FILE, null,
				     0));
	ASSERT_ERRNO(EBADF, kapi_op(self->kfd, KAPI_TEST_CTX_FROM_FILE, -1, 0));
	close(null);
}

TEST_F(acc, the_compat_ioas_is_made_once_and_is_user_space_s_to_destroy)
{
	struct iommu_vfio_ioas get = {
		.size = sizeof(get),
		.op = IOMMU_VFIO_IOAS_GET,
	};
	struct kapi_test_cmd cmd = {
		.op = KAPI_TEST_COMPAT_IOAS_GET_ID,
		.fd = self->iommufd,
	};
	uint32_t id;

	ASSERT_ERRNO(ENODEV, kapi(self->kfd, &cmd));
	ASSERT_EQ(0, kapi_op(self->kfd, KAPI_TEST_COMPAT_IOAS_CREATE,
			     self->iommufd, 0));
	ASSERT_EQ(0, kapi(self->kfd, &cmd));
	id = cmd.out_id;
	ASSERT_NE(0, id);
	ASSERT_NE(self->ioas_id, id);
	ASSERT_EQ(0, ioctl(self->iommufd, IOMMU_VFIO_IOAS, &get));
	ASSERT_EQ(id, get.ioas_id);
	/* Again: the one there is kept. */
	ASSERT_EQ(0, kapi_op(self->kfd, KAPI_TEST_COMPAT_IOAS_CREATE,
			     self->iommufd, 0));
	ASSERT_EQ(0, kapi(self->kfd, &cmd));
	ASSERT_EQ(id, cmd.out_id);
	ASSERT_EQ(0, destroy(self->iommufd, id));
	ASSERT_ERRNO(ENODEV, kapi(self->kfd, &cmd));
}

/* Last: nothing of the API is held any more, so the module goes. */
TEST(the_test_module_unloads_and_leaves_iommufd_unused_by_it)
{
	int kfd = kapi_open();

	if (kfd < 0)
		SKIP(KAPI_NO_MODULE);
	close(kfd);
	ASSERT_EQ(0, system("kmodctl unload iommufd_kapi_test"));
	ASSERT_NE(0, access("/sys/module/iommufd_kapi_test", F_OK));
	ASSERT_NE(0, access(KAPI_TEST_NODE, F_OK));
}

TEST_HARNESS_MAIN
