// SPDX-License-Identifier: GPL-2.0
/*
 * The /dev/iommu dispatcher and the object registry, through the public ABI:
 * ioctl numbers, the size-extensible argument rule, bad pointers, object ids,
 * file descriptor sharing and concurrency.  Only IOMMU_IOAS_ALLOC and
 * IOMMU_DESTROY are issued: they are the ioctls every build of the module
 * implements, and the dispatcher's rules are checked through them.
 *
 * The expected errnos are upstream iommufd's (drivers/iommu/iommufd/main.c):
 *  - a number below IOMMUFD_CMD_BASE or past the last table row never
 *    touches the argument and is ENOTTY;
 *  - inside the table the u32 size word is read first (EFAULT if it cannot
 *    be), then the full ioctl number is compared with the row (ENOTTY if
 *    type, direction or size bits differ), then size < offsetofend(last
 *    mandatory field) is EINVAL, then copy_struct_from_user(): bytes past
 *    the struct must be zero (E2BIG), faults are EFAULT;
 *  - the answer is copied back with the caller's size capped at the
 *    struct's; a fault there is EFAULT and the new object is dropped.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/iommufd.h>

#include "iommufd_harness.h"
#include "iommufd_utils.h"

#define IOMMUFD_DEV		"/dev/iommu"

/* The end of a struct member, as the kernel's offsetofend(). */
#define offsetofend(type, member)					\
	(offsetof(type, member) + sizeof(((type *)0)->member))

#define IOAS_ALLOC_MIN_SIZE	offsetofend(struct iommu_ioas_alloc, out_ioas_id)
#define DESTROY_MIN_SIZE	offsetofend(struct iommu_destroy, id)

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static int try_ioas_alloc(int fd, uint32_t *out_ioas_id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	int rc = ioctl(fd, IOMMU_IOAS_ALLOC, &cmd);

	*out_ioas_id = cmd.out_ioas_id;
	return rc;
}

static int compare_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Sorts ids[] and fails the case if an id is zero or appears twice. */
static void assert_ids_distinct_and_nonzero(uint32_t *ids, size_t count)
{
	qsort(ids, count, sizeof(*ids), compare_u32);
	for (size_t i = 0; i < count; i++) {
		ASSERT_NE(0, ids[i]);
		if (i)
			ASSERT_NE(ids[i - 1], ids[i]);
	}
}

/*
 * Two pages: the first read-write and zeroed, the second PROT_NONE, so an
 * argument can be placed right before memory the kernel cannot read.
 */
static uint8_t *map_page_before_hole(void)
{
	uint8_t *pages = mmap(NULL, 2 * page_size(), PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, pages);
	ASSERT_EQ(0, mprotect(pages + page_size(), page_size(), PROT_NONE));
	return pages;
}

static void unmap_page_before_hole(uint8_t *pages)
{
	ASSERT_EQ(0, munmap(pages, 2 * page_size()));
}

/* ------------------------------------------------------------------------
 * The device node.
 */

/* Upstream's miscdevice is registered with .mode = 0660. */
TEST(dev_iommu_is_a_root_owned_char_device_with_mode_0660)
{
	struct stat st;

	ASSERT_EQ(0, stat(IOMMUFD_DEV, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(0660, st.st_mode & 07777);
	ASSERT_EQ(0, st.st_uid);
}

FIXTURE(iommufd)
{
	int fd;
};

FIXTURE_SETUP(iommufd)
{
	self->fd = iommufd_open();
}

FIXTURE_TEARDOWN(iommufd)
{
	ASSERT_EQ(0, close(self->fd));
}

/* There is no .read or .write: the VFS refuses both with EINVAL. */
TEST_F(iommufd, read_and_write_on_the_fd_are_einval)
{
	char buf[16] = { 0 };

	ASSERT_ERRNO(EINVAL, read(self->fd, buf, sizeof(buf)));
	ASSERT_ERRNO(EINVAL, write(self->fd, buf, sizeof(buf)));
}

/* ------------------------------------------------------------------------
 * Ioctl numbers.
 */

/*
 * A zeroed argument with a plausible size word, so that only the ioctl
 * number can be what the kernel objects to.
 */
struct any_arg {
	uint32_t size;
	uint8_t rest[124];
};

/*
 * Below IOMMUFD_CMD_BASE.  Numbers 0x64-0x75 are left out: upstream's
 * /dev/iommu answers the VFIO container ioctls (type ';' too, from 100 up)
 * through its VFIO compatibility layer.
 */
TEST_F(iommufd, unknown_ioctl_numbers_below_the_iommufd_range_are_enotty)
{
	static const unsigned int numbers[] = {
		0x00, 0x01, 0x40, 0x63, 0x76, IOMMUFD_CMD_BASE - 1,
	};
	struct any_arg arg = { .size = sizeof(arg) };

	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		unsigned long cmd = _IO(IOMMUFD_TYPE, numbers[i]);

		EXPECT_ERRNO(ENOTTY, ioctl(self->fd, cmd, &arg));
		/* The argument is not even read. */
		EXPECT_ERRNO(ENOTTY, ioctl(self->fd, cmd, NULL));
	}
}

/* Past the newest command of any upstream ABI, the self-test one included. */
TEST_F(iommufd, unknown_ioctl_numbers_above_the_iommufd_range_are_enotty)
{
	static const unsigned int numbers[] = { 0xc0, 0xfe, 0xff };
	struct any_arg arg = { .size = sizeof(arg) };

	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		unsigned long cmd = _IO(IOMMUFD_TYPE, numbers[i]);

		EXPECT_ERRNO(ENOTTY, ioctl(self->fd, cmd, &arg));
		EXPECT_ERRNO(ENOTTY, ioctl(self->fd, cmd, NULL));
	}
}

/*
 * Another ioctl type with the number of a real command: the table row's
 * full ioctl number does not match, so nothing runs.
 */
TEST_F(iommufd, ioctls_of_another_type_are_enotty_and_run_nothing)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	uint32_t ioas_id = ioas_alloc(self->fd);
	struct iommu_destroy destroy_cmd = {
		.size = sizeof(destroy_cmd),
		.id = ioas_id,
	};
	uint8_t termios_buf[256] = { 0 };

	ASSERT_ERRNO(ENOTTY, ioctl(self->fd, TCGETS, termios_buf));
	ASSERT_ERRNO(ENOTTY, ioctl(self->fd, TCGETS, NULL));
	ASSERT_ERRNO(ENOTTY, ioctl(self->fd, _IO('x', IOMMUFD_CMD_IOAS_ALLOC),
				   &alloc));
	ASSERT_EQ(0, alloc.out_ioas_id);
	ASSERT_ERRNO(ENOTTY, ioctl(self->fd, _IO('x', IOMMUFD_CMD_DESTROY),
				   &destroy_cmd));
	ASSERT_EQ(0, destroy(self->fd, ioas_id));
}

/* The table holds the exact _IO() number: direction and size bits differ. */
TEST_F(iommufd, command_numbers_with_direction_and_size_bits_are_enotty)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	uint32_t ioas_id = ioas_alloc(self->fd);
	struct iommu_destroy destroy_cmd = {
		.size = sizeof(destroy_cmd),
		.id = ioas_id,
	};

	ASSERT_ERRNO(ENOTTY,
		     ioctl(self->fd,
			   _IOWR(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC,
				 struct iommu_ioas_alloc),
			   &alloc));
	ASSERT_EQ(0, alloc.out_ioas_id);
	ASSERT_ERRNO(ENOTTY,
		     ioctl(self->fd,
			   _IOW(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY,
				struct iommu_destroy),
			   &destroy_cmd));
	ASSERT_EQ(0, destroy(self->fd, ioas_id));
}

/* ------------------------------------------------------------------------
 * Argument pointers.
 */

/* Upstream's own selftest (cmd_fail) expects EFAULT for DESTROY(NULL). */
TEST_F(iommufd, null_arguments_are_efault)
{
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, IOMMU_DESTROY, NULL));
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, IOMMU_IOAS_ALLOC, NULL));
}

TEST_F(iommufd, arguments_in_unmapped_or_kernel_memory_are_efault)
{
	uint8_t *pages = map_page_before_hole();
	void *hole = pages + page_size();
	/* The top page of the address space is never user memory. */
	void *kernel = (void *)(uintptr_t)-page_size();

	EXPECT_ERRNO(EFAULT, ioctl(self->fd, IOMMU_IOAS_ALLOC, hole));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, IOMMU_DESTROY, hole));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, IOMMU_IOAS_ALLOC, kernel));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, IOMMU_DESTROY, kernel));
	unmap_page_before_hole(pages);
}

/* The size word is readable, the rest of the struct is not. */
TEST_F(iommufd, a_struct_running_into_unmapped_memory_is_efault)
{
	uint8_t *pages = map_page_before_hole();
	uint32_t *size = (uint32_t *)(pages + page_size() - sizeof(*size));

	*size = sizeof(struct iommu_ioas_alloc);
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, IOMMU_IOAS_ALLOC, size));
	*size = sizeof(struct iommu_destroy);
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, IOMMU_DESTROY, size));
	unmap_page_before_hole(pages);
}

/*
 * The struct is mapped, the zero tail the size announces runs into the
 * hole: the kernel cannot prove the tail zero.
 */
TEST_F(iommufd, a_size_reaching_into_unmapped_memory_is_efault)
{
	uint8_t *pages = map_page_before_hole();
	struct iommu_ioas_alloc *alloc =
		(void *)(pages + page_size() - 2 * sizeof(*alloc));

	alloc->size = 2 * sizeof(*alloc) + 64;
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, IOMMU_IOAS_ALLOC, alloc));
	EXPECT_EQ(0, alloc->out_ioas_id);
	unmap_page_before_hole(pages);
}

/* The answer cannot be written back: upstream drops the new object. */
TEST_F(iommufd, ioas_alloc_into_read_only_memory_is_efault)
{
	struct iommu_ioas_alloc *alloc;

	alloc = mmap(NULL, page_size(), PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, alloc);
	alloc->size = sizeof(*alloc);
	ASSERT_EQ(0, mprotect(alloc, page_size(), PROT_READ));

	ASSERT_ERRNO(EFAULT, ioctl(self->fd, IOMMU_IOAS_ALLOC, alloc));
	ASSERT_EQ(0, alloc->out_ioas_id);
	ASSERT_EQ(0, munmap(alloc, page_size()));

	/* The context is still usable. */
	ASSERT_EQ(0, destroy(self->fd, ioas_alloc(self->fd)));
}

/* ------------------------------------------------------------------------
 * The size word.
 */

TEST_F(iommufd, ioas_alloc_shorter_than_out_ioas_id_is_einval)
{
	static const uint32_t sizes[] = { 0, 1, 4, 8, IOAS_ALLOC_MIN_SIZE - 1 };
	uint8_t buf[64] = { 0 };
	struct iommu_ioas_alloc *alloc = (void *)buf;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		alloc->size = sizes[i];
		EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOMMU_IOAS_ALLOC, alloc));
		EXPECT_EQ(0, alloc->out_ioas_id);
	}
}

TEST_F(iommufd, destroy_shorter_than_id_is_einval_and_destroys_nothing)
{
	static const uint32_t sizes[] = { 0, 1, 4, DESTROY_MIN_SIZE - 1 };
	struct iommu_destroy cmd = { .id = ioas_alloc(self->fd) };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		cmd.size = sizes[i];
		EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOMMU_DESTROY, &cmd));
	}
	ASSERT_EQ(0, destroy(self->fd, cmd.id));
}

/*
 * A newer binary may pass a longer struct; a zero tail is accepted, and the
 * answer is written within the kernel's struct only.
 */
TEST_F(iommufd, ioas_alloc_longer_than_the_struct_with_a_zero_tail_succeeds)
{
	const uint32_t sizes[] = {
		sizeof(struct iommu_ioas_alloc) + 1,
		sizeof(struct iommu_ioas_alloc) + 4,
		64,
		(uint32_t)page_size(),
	};
	uint32_t ids[sizeof(sizes) / sizeof(sizes[0])];
	uint8_t *buf = map_page_before_hole();
	struct iommu_ioas_alloc *alloc = (void *)buf;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(buf, 0, page_size());
		alloc->size = sizes[i];
		ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_ALLOC, alloc));
		ASSERT_EQ(sizes[i], alloc->size);
		ASSERT_EQ(0, alloc->flags);
		ids[i] = alloc->out_ioas_id;
		for (size_t j = sizeof(*alloc); j < page_size(); j++)
			ASSERT_EQ(0, buf[j]);
	}
	unmap_page_before_hole(buf);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		ASSERT_EQ(0, destroy(self->fd, ids[i]));
	assert_ids_distinct_and_nonzero(ids, sizeof(ids) / sizeof(ids[0]));
}

TEST_F(iommufd, ioas_alloc_with_a_nonzero_byte_in_the_tail_is_e2big)
{
	const struct {
		uint32_t size;
		uint32_t nonzero_at;
	} cases[] = {
		{ sizeof(struct iommu_ioas_alloc) + 1,
		  sizeof(struct iommu_ioas_alloc) },
		{ 64, 63 },
		{ (uint32_t)page_size(), (uint32_t)page_size() - 1 },
	};
	uint8_t *buf = map_page_before_hole();
	struct iommu_ioas_alloc *alloc = (void *)buf;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(buf, 0, page_size());
		alloc->size = cases[i].size;
		buf[cases[i].nonzero_at] = 0x80;
		EXPECT_ERRNO(E2BIG, ioctl(self->fd, IOMMU_IOAS_ALLOC, alloc));
		EXPECT_EQ(0, alloc->out_ioas_id);
	}
	unmap_page_before_hole(buf);
}

/* Bytes past the caller's size belong to the caller: not read, not written. */
TEST_F(iommufd, ioas_alloc_ignores_and_preserves_bytes_past_its_size)
{
	struct {
		struct iommu_ioas_alloc cmd;
		uint8_t after[8];
	} arg;

	memset(&arg, 0xa5, sizeof(arg));
	arg.cmd.size = sizeof(arg.cmd);
	arg.cmd.flags = 0;
	arg.cmd.out_ioas_id = 0;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_IOAS_ALLOC, &arg.cmd));
	ASSERT_NE(0, arg.cmd.out_ioas_id);
	for (size_t i = 0; i < sizeof(arg.after); i++)
		ASSERT_EQ(0xa5, arg.after[i]);
	ASSERT_EQ(0, destroy(self->fd, arg.cmd.out_ioas_id));
}

/* As upstream's cmd_ex_fail, with a live object to show nothing ran. */
TEST_F(iommufd, destroy_with_a_nonzero_tail_is_e2big_and_keeps_the_object)
{
	struct {
		struct iommu_destroy cmd;
		uint64_t future;
	} arg = {
		.cmd = { .size = sizeof(arg), .id = ioas_alloc(self->fd) },
		.future = 1,
	};

	ASSERT_ERRNO(E2BIG, ioctl(self->fd, IOMMU_DESTROY, &arg));
	arg.future = 0;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_DESTROY, &arg));
	ASSERT_ERRNO(ENOENT, ioctl(self->fd, IOMMU_DESTROY, &arg));
}

/* ------------------------------------------------------------------------
 * Flags and reserved fields.  struct iommu_destroy has neither.
 */

/* iommufd_ioas_alloc_ioctl(): any flag is EOPNOTSUPP. */
TEST_F(iommufd, ioas_alloc_with_unknown_flags_is_eopnotsupp)
{
	static const uint32_t flags[] = { 1, 2, 1u << 31, ~0u };

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		struct iommu_ioas_alloc cmd = {
			.size = sizeof(cmd),
			.flags = flags[i],
		};

		EXPECT_ERRNO(EOPNOTSUPP,
			     ioctl(self->fd, IOMMU_IOAS_ALLOC, &cmd));
		EXPECT_EQ(0, cmd.out_ioas_id);
	}
}

/* ------------------------------------------------------------------------
 * Object ids.
 */

TEST_F(iommufd, ioas_alloc_hands_out_distinct_ids)
{
	uint32_t ids[256];

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		ids[i] = ioas_alloc(self->fd);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		ASSERT_EQ(0, destroy(self->fd, ids[i]));
	assert_ids_distinct_and_nonzero(ids, sizeof(ids) / sizeof(ids[0]));
}

/* Upstream's xarray allocates from 1 (XA_FLAGS_ALLOC1). */
TEST_F(iommufd, id_zero_is_never_handed_out_nor_found)
{
	enum { COUNT = 1000 };
	uint32_t *ids = calloc(COUNT, sizeof(*ids));

	ASSERT_NE(NULL, ids);
	ASSERT_ERRNO(ENOENT, destroy(self->fd, 0));
	/* Twice over, so that freed ids are handed out again. */
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < COUNT; i++)
			ids[i] = ioas_alloc(self->fd);
		ASSERT_ERRNO(ENOENT, destroy(self->fd, 0));
		for (size_t i = 0; i < COUNT; i++)
			ASSERT_EQ(0, destroy(self->fd, ids[i]));
	}
	free(ids);
}

TEST_F(iommufd, destroy_of_an_id_never_handed_out_is_enoent)
{
	static const uint32_t unknown[] = {
		0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff,
	};
	uint32_t ioas_id;

	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		EXPECT_ERRNO(ENOENT, destroy(self->fd, unknown[i]));

	ioas_id = ioas_alloc(self->fd);
	ASSERT_NE(0xffffffff, ioas_id);
	EXPECT_ERRNO(ENOENT, destroy(self->fd, 0xffffffff));
	ASSERT_EQ(0, destroy(self->fd, ioas_id));
}

TEST_F(iommufd, destroying_an_ioas_twice_is_enoent_the_second_time)
{
	uint32_t ioas_id = ioas_alloc(self->fd);

	ASSERT_EQ(0, destroy(self->fd, ioas_id));
	ASSERT_ERRNO(ENOENT, destroy(self->fd, ioas_id));
}

TEST_F(iommufd, destroying_one_ioas_leaves_the_others)
{
	uint32_t a = ioas_alloc(self->fd);
	uint32_t b = ioas_alloc(self->fd);
	uint32_t c = ioas_alloc(self->fd);

	ASSERT_EQ(0, destroy(self->fd, b));
	ASSERT_ERRNO(ENOENT, destroy(self->fd, b));
	ASSERT_EQ(0, destroy(self->fd, a));
	ASSERT_EQ(0, destroy(self->fd, c));
}

/*
 * Reaching EBUSY (IOMMU_DESTROY of an object still in use) needs a second
 * object holding a user reference on the IOAS: a HWPT or an access attached
 * to it.  IOAS objects alone cannot make one, so the EBUSY case belongs to
 * the HWPT and device suites: destroy_of_an_ioas_in_use_by_a_hwpt_is_ebusy.
 */

/* Every open() is its own context with its own id space. */
TEST_F(iommufd, ioas_ids_belong_to_the_fd_that_made_them)
{
	int other_fd = iommufd_open();
	uint32_t ioas_id = ioas_alloc(self->fd);

	ASSERT_ERRNO(ENOENT, destroy(other_fd, ioas_id));
	ASSERT_EQ(0, destroy(self->fd, ioas_id));
	ASSERT_EQ(0, close(other_fd));
}

TEST_F(iommufd, a_dup_of_the_fd_shares_its_objects)
{
	int dup_fd = dup(self->fd);
	uint32_t ioas_id = ioas_alloc(self->fd);

	ASSERT_NE(-1, dup_fd);
	ASSERT_EQ(0, destroy(dup_fd, ioas_id));
	ASSERT_ERRNO(ENOENT, destroy(self->fd, ioas_id));
	ASSERT_EQ(0, close(dup_fd));
	/* The context lives on through the original fd. */
	ASSERT_EQ(0, destroy(self->fd, ioas_alloc(self->fd)));
}

/* Teardown closes the fd; the release path frees what is left. */
TEST_F(iommufd, ioas_objects_left_alive_are_freed_by_close)
{
	for (int i = 0; i < 16; i++)
		ioas_alloc(self->fd);
}

/* ------------------------------------------------------------------------
 * Lifetime at scale.
 */

TEST_TIMEOUT(thousands_of_open_close_cycles_with_live_ioas_objects, 300)
{
	/*
	 * The debug kernel's checkers see a leak or a use after free in
	 * the first cycles already; there a cycle costs 20 ms, not 0.1.
	 */
	int cycles = ih_slow_kernel() ? 1000 : 5000;

	for (int cycle = 0; cycle < cycles; cycle++) {
		int fd = iommufd_open();
		uint32_t first = ioas_alloc(fd);

		ioas_alloc(fd);
		ioas_alloc(fd);
		/* One destroyed by hand, two left for close(). */
		ASSERT_EQ(0, destroy(fd, first));
		ASSERT_EQ(0, close(fd));
	}
}

TEST_TIMEOUT(ten_thousand_ioas_in_one_context_are_freed_by_close, 300)
{
	enum { COUNT = 10000 };
	uint32_t *ids = calloc(COUNT, sizeof(*ids));

	ASSERT_NE(NULL, ids);
	/* A second round on a new fd starts from a clean slate. */
	for (int round = 0; round < 2; round++) {
		int fd = iommufd_open();

		for (size_t i = 0; i < COUNT; i++)
			ids[i] = ioas_alloc(fd);
		/* Destroy a few by hand, scattered through the id space. */
		for (size_t i = 0; i < COUNT; i += 97)
			ASSERT_EQ(0, destroy(fd, ids[i]));
		ASSERT_EQ(0, close(fd));
		assert_ids_distinct_and_nonzero(ids, COUNT);
	}
	free(ids);
}

/* ------------------------------------------------------------------------
 * Sharing the fd between processes.
 */

TEST_F(iommufd, a_forked_child_uses_the_inherited_fd_and_the_parent_sees_it)
{
	uint32_t parent_id = ioas_alloc(self->fd);
	uint32_t child_id = 0;
	int pipe_fds[2];
	pid_t pid;

	ASSERT_EQ(0, pipe(pipe_fds));
	pid = fork();
	ASSERT_NE(-1, pid);
	if (pid == 0) {
		uint32_t id = ioas_alloc(self->fd);

		/* Same context: the parent's object is here to destroy. */
		ASSERT_EQ(0, destroy(self->fd, parent_id));
		ASSERT_EQ((ssize_t)sizeof(id),
			  write(pipe_fds[1], &id, sizeof(id)));
		_exit(0);
	}
	ASSERT_EQ(0, close(pipe_fds[1]));
	wait_for_clean_exit(pid);
	ASSERT_EQ((ssize_t)sizeof(child_id),
		  read(pipe_fds[0], &child_id, sizeof(child_id)));
	ASSERT_EQ(0, close(pipe_fds[0]));

	ASSERT_ERRNO(ENOENT, destroy(self->fd, parent_id));
	ASSERT_EQ(0, destroy(self->fd, child_id));
	ASSERT_ERRNO(ENOENT, destroy(self->fd, child_id));
}

static void send_fd(int sock, int fd, uint32_t payload)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = { .iov_base = &payload, .iov_len = sizeof(payload) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg;

	memset(&control, 0, sizeof(control));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(fd));
	ASSERT_EQ((ssize_t)sizeof(payload), sendmsg(sock, &msg, 0));
}

static int receive_fd(int sock, uint32_t *payload)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = { .iov_base = payload, .iov_len = sizeof(*payload) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg;
	int fd;

	ASSERT_EQ((ssize_t)sizeof(*payload), recvmsg(sock, &msg, MSG_CMSG_CLOEXEC));
	cmsg = CMSG_FIRSTHDR(&msg);
	ASSERT_NE(NULL, cmsg);
	ASSERT_EQ(SOL_SOCKET, cmsg->cmsg_level);
	ASSERT_EQ(SCM_RIGHTS, cmsg->cmsg_type);
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
	return fd;
}

/*
 * The sender opens the context, makes an IOAS, passes the fd with
 * SCM_RIGHTS, closes its copy and exits before the receiver touches it.
 */
TEST(an_fd_passed_over_a_unix_socket_outlives_its_sender)
{
	uint32_t ioas_id = 0;
	int socks[2];
	int fd;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, socks));
	pid = fork();
	ASSERT_NE(-1, pid);
	if (pid == 0) {
		int sender_fd = iommufd_open();

		send_fd(socks[0], sender_fd, ioas_alloc(sender_fd));
		ASSERT_EQ(0, close(sender_fd));
		_exit(0);
	}
	wait_for_clean_exit(pid);

	fd = receive_fd(socks[1], &ioas_id);
	ASSERT_EQ(0, close(socks[0]));
	ASSERT_EQ(0, close(socks[1]));

	ASSERT_EQ(0, destroy(fd, ioas_id));
	ASSERT_ERRNO(ENOENT, destroy(fd, ioas_id));
	ASSERT_EQ(0, destroy(fd, ioas_alloc(fd)));
	ASSERT_EQ(0, close(fd));
}

/* ------------------------------------------------------------------------
 * Concurrency.
 */

enum {
	RACE_THREADS = 4,
	RACE_ROUNDS = 300,
	RACE_BATCH = 16,
};

/*
 * The ids alive at this moment, as seen by the threads: an id enters after
 * IOAS_ALLOC returned it and leaves before IOMMU_DESTROY is called, so an id
 * found already present was handed out while still alive.
 */
struct race {
	int fd;
	pthread_barrier_t start;
	pthread_mutex_t lock;
	uint32_t live[RACE_THREADS * RACE_BATCH];
	unsigned int nlive;
	unsigned int duplicates;
	unsigned int alloc_failures;
	unsigned int destroy_failures;
	unsigned int allocated;
};

static void race_add(struct race *race, uint32_t id)
{
	pthread_mutex_lock(&race->lock);
	for (unsigned int i = 0; i < race->nlive; i++)
		if (race->live[i] == id)
			race->duplicates++;
	/* Only duplicates could fill it; they are counted, not kept. */
	if (race->nlive < sizeof(race->live) / sizeof(race->live[0]))
		race->live[race->nlive++] = id;
	race->allocated++;
	pthread_mutex_unlock(&race->lock);
}

static void race_remove(struct race *race, uint32_t id)
{
	pthread_mutex_lock(&race->lock);
	for (unsigned int i = 0; i < race->nlive; i++) {
		if (race->live[i] == id) {
			race->live[i] = race->live[--race->nlive];
			break;
		}
	}
	pthread_mutex_unlock(&race->lock);
}

static void race_count(struct race *race, unsigned int *counter)
{
	pthread_mutex_lock(&race->lock);
	(*counter)++;
	pthread_mutex_unlock(&race->lock);
}

static void *race_thread(void *arg)
{
	struct race *race = arg;
	uint32_t ids[RACE_BATCH];

	pthread_barrier_wait(&race->start);
	for (int round = 0; round < RACE_ROUNDS; round++) {
		unsigned int n = 0;

		for (int i = 0; i < RACE_BATCH; i++) {
			if (try_ioas_alloc(race->fd, &ids[n]) || !ids[n]) {
				race_count(race, &race->alloc_failures);
				continue;
			}
			race_add(race, ids[n++]);
		}
		for (unsigned int i = 0; i < n; i++) {
			race_remove(race, ids[i]);
			if (destroy(race->fd, ids[i]))
				race_count(race, &race->destroy_failures);
		}
	}
	return NULL;
}

TEST_F_TIMEOUT(iommufd, concurrent_alloc_and_destroy_never_hand_out_a_live_id_twice,
	       120)
{
	static struct race race;
	pthread_t threads[RACE_THREADS];

	memset(&race, 0, sizeof(race));
	race.fd = self->fd;
	ASSERT_EQ(0, pthread_barrier_init(&race.start, NULL, RACE_THREADS));
	ASSERT_EQ(0, pthread_mutex_init(&race.lock, NULL));
	for (int i = 0; i < RACE_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, race_thread,
					    &race));
	for (int i = 0; i < RACE_THREADS; i++)
		ASSERT_EQ(0, pthread_join(threads[i], NULL));

	EXPECT_EQ(0, race.duplicates);
	EXPECT_EQ(0, race.alloc_failures);
	EXPECT_EQ(0, race.destroy_failures);
	EXPECT_EQ(RACE_THREADS * RACE_ROUNDS * RACE_BATCH, race.allocated);
	EXPECT_EQ(0, race.nlive);
	pthread_barrier_destroy(&race.start);
	pthread_mutex_destroy(&race.lock);
}

TEST_HARNESS_MAIN
