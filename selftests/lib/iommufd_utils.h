/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small ioctl wrappers the iommufd suites share: opening /dev/iommu,
 * IOAS and object basics, the self-test commands, and the accounting
 * counters of /proc/self/status.  Include after iommufd_harness.h: the
 * wrappers assert with it.
 */
#ifndef SELFTESTS_IOMMUFD_UTILS_H
#define SELFTESTS_IOMMUFD_UTILS_H

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <linux/iommufd.h>
#include <linux/iommufd_test.h>

#define IOMMUFD_DEV		"/dev/iommu"
#ifndef PAGE
#define PAGE			0x1000UL
#endif
/* The unprivileged uid accounting tests drop to. */
#define NOBODY			65534

/*
 * Op 0 is no operation: a module with self-test support refuses it
 * (EOPNOTSUPP upstream); one without does not know the ioctl at all.
 */
#define REQUIRE_SELFTEST(fd)						\
	do {								\
		if (!selftest_available(fd))				\
			SKIP("no IOMMU_TEST_CMD: module not loaded with selftest=1");\
	} while (0)

struct vm_counters {
	long pin_kb;	/* VmPin: mm->pinned_vm */
	long lck_kb;	/* VmLck: mm->locked_vm */
};

static inline int test_cmd(int fd, struct iommu_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return ioctl(fd, IOMMU_TEST_CMD, cmd);
}

static inline bool selftest_available(int fd)
{
	struct iommu_test_cmd cmd = { .op = 0 };

	return !(test_cmd(fd, &cmd) == -1 && errno == ENOTTY);
}

static inline int iommufd_open(void)
{
	int fd = open(IOMMUFD_DEV, O_RDWR | O_CLOEXEC);

	ASSERT_NE(-1, fd);
	return fd;
}

static inline uint32_t ioas_alloc(int fd)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };

	ASSERT_EQ(0, ioctl(fd, IOMMU_IOAS_ALLOC, &cmd));
	ASSERT_NE(0, cmd.out_ioas_id);
	return cmd.out_ioas_id;
}

static inline int destroy(int fd, uint32_t id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return ioctl(fd, IOMMU_DESTROY, &cmd);
}

/*
 * Private anonymous memory, populated, kept out of transparent huge pages
 * so that IOMMU_TEST_OP_MD_CHECK_REFS (which skips compound pages) sees
 * every page.
 */
static inline uint8_t *alloc_buffer(size_t length)
{
	uint8_t *buf = mmap(NULL, length, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, madvise(buf, length, MADV_NOHUGEPAGE));
	for (size_t i = 0; i < length; i += PAGE)
		buf[i] = (uint8_t)(i / PAGE + 1);
	return buf;
}

static inline void free_buffer(void *buf, size_t length)
{
	ASSERT_EQ(0, munmap(buf, length));
}

/* A readable and writeable mapping of @buf at exactly @iova. */
static inline int ioas_map_fixed(int fd, uint32_t ioas_id, const void *buf,
				 uint64_t length, uint64_t iova)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)buf,
		.length = length,
		.iova = iova,
	};

	return ioctl(fd, IOMMU_IOAS_MAP, &cmd);
}

static inline int ioas_unmap_range(int fd, uint32_t ioas_id, uint64_t iova,
				   uint64_t length)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = length,
	};

	return ioctl(fd, IOMMU_IOAS_UNMAP, &cmd);
}

/* The mock domain of @hwpt_id translates [iova, iova + length) to @uptr. */
static inline int check_map(int fd, uint32_t hwpt_id, uint64_t iova,
			    uint64_t length, const void *uptr)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_MAP,
		.id = hwpt_id,
		.check_map = {
			.iova = iova,
			.length = length,
			.uptr = (uintptr_t)uptr,
		},
	};

	return test_cmd(fd, &cmd);
}

/* Every page of [uptr, uptr + length) is pinned exactly @refs times. */
static inline int check_refs(int fd, const void *uptr, uint64_t length,
			     uint32_t refs)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_REFS,
		.check_refs = {
			.length = length,
			.uptr = (uintptr_t)uptr,
			.refs = refs,
		},
	};

	return test_cmd(fd, &cmd);
}

static inline int add_reserved(int fd, uint32_t ioas_id, uint64_t start,
			uint64_t length)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ADD_RESERVED,
		.id = ioas_id,
		.add_reserved = { .start = start, .length = length },
	};

	return test_cmd(fd, &cmd);
}

static inline void drop_to_nobody(void)
{
	ASSERT_EQ(0, setgroups(0, NULL));
	ASSERT_EQ(0, setgid(NOBODY));
	ASSERT_EQ(0, setuid(NOBODY));
	ASSERT_NE(0, geteuid());
}

static inline void set_memlock_limit(rlim_t bytes)
{
	struct rlimit limit = { .rlim_cur = bytes, .rlim_max = bytes };

	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &limit));
}

/* This process's pinned and locked memory, from /proc/self/status. */
static inline struct vm_counters vm_counters(void)
{
	struct vm_counters vm = { -1, -1 };
	char line[256];
	FILE *status;

	status = fopen("/proc/self/status", "re");
	ASSERT_NE(NULL, status);
	while (fgets(line, sizeof(line), status)) {
		long val;

		if (sscanf(line, "VmPin: %ld kB", &val) == 1)
			vm.pin_kb = val;
		else if (sscanf(line, "VmLck: %ld kB", &val) == 1)
			vm.lck_kb = val;
	}
	fclose(status);
	ASSERT_NE(-1, vm.pin_kb);
	ASSERT_NE(-1, vm.lck_kb);
	return vm;
}

static inline long kb(uint64_t bytes)
{
	return (long)(bytes / 1024);
}

/* IOMMU_OPTION_RLIMIT_MODE: 0 charges the user, 1 the process. */
static inline int set_rlimit_mode(int fd, uint64_t mode)
{
	struct iommu_option cmd = {
		.size = sizeof(cmd),
		.option_id = IOMMU_OPTION_RLIMIT_MODE,
		.op = IOMMU_OPTION_OP_SET,
		.val64 = mode,
	};

	return ioctl(fd, IOMMU_OPTION, &cmd);
}

/* IOMMU_HWPT_ALLOC with driver data; *out_hwpt_id only on success. */
static inline int hwpt_alloc_data(int fd, uint32_t dev_id, uint32_t pt_id,
				  uint32_t flags, uint32_t data_type,
				  const void *data, uint32_t data_len,
				  uint32_t *out_hwpt_id)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
		.data_type = data_type,
		.data_len = data_len,
		.data_uptr = (uintptr_t)data,
	};
	int rc = ioctl(fd, IOMMU_HWPT_ALLOC, &cmd);

	if (!rc && out_hwpt_id)
		*out_hwpt_id = cmd.out_hwpt_id;
	return rc;
}

#ifdef IOMMU_IOAS_MAP_FILE
/* A readable and writeable mapping of @length bytes of @mfd at @iova. */
static inline int map_file_at(int fd, uint32_t ioas_id, int mfd,
			      uint64_t length, uint64_t iova)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas_id,
		.fd = mfd,
		.length = length,
		.iova = iova,
	};

	return ioctl(fd, IOMMU_IOAS_MAP_FILE, &cmd);
}
#endif

#ifdef IOMMU_IOAS_CHANGE_PROCESS
/* Make the caller pay for every pin of the context's file mappings. */
static inline int change_process(int fd)
{
	struct iommu_ioas_change_process cmd = { .size = sizeof(cmd) };

	return ioctl(fd, IOMMU_IOAS_CHANGE_PROCESS, &cmd);
}
#endif

/* Monotonic seconds, for loops that run for a while. */
static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* @pid, a child of ours, must end by exit(0). */
static inline void wait_for_clean_exit(pid_t pid)
{
	int status;

	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/*
 * Run @fn(@arg) in a forked child and wait for it.  The child's ASSERTs end
 * it with status 1, its EXPECTs are recorded for the case.
 */
static inline void in_child(void (*fn)(void *arg), void *arg)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	ASSERT_NE(-1, pid);
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	wait_for_clean_exit(pid);
}

#endif /* SELFTESTS_IOMMUFD_UTILS_H */
