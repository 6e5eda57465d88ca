// SPDX-License-Identifier: GPL-2.0
/*
 * Reproducer found by the fuzzer: IOMMU_DESTROY of a mock device (its
 * stdev_id) while IOMMUFD_DKMS_DEVICE_ATTACH (on its idev_id) or
 * IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE moves it between two IOAS.  The
 * unbind's detach and the attach interleave; the
 * device is then destroyed with a HWPT still set (WARN_ON(idev->hwpt) in
 * iommufd_device_destroy), and that HWPT, its IOAS and their pins leak:
 * closing the context warns "objects still referenced at release".  The
 * self-test path of issue 8's "unbind races an in-flight attach".
 *
 * Prints TAP; the kernel log decides (the guest runner fails the run on
 * the WARNING).  Before a fix, on 6.12/intel under TCG, it hit within the
 * first few hundred iterations.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/iommufd.h>
#include <linux/iommufd_dkms.h>
#include <linux/iommufd_test.h>

#define ITERATIONS	3000

static int fd;
static volatile uint32_t stdev, idev, ioas[2];
static volatile int go, done;

static uint32_t ioas_alloc(void)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };

	return ioctl(fd, IOMMU_IOAS_ALLOC, &cmd) ? 0 : cmd.out_ioas_id;
}

static void *replacer(void *arg)
{
	unsigned int n = 0;

	(void)arg;
	while (!done) {
		struct iommu_test_cmd cmd = {
			.size = sizeof(cmd),
			.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
		};

		struct iommufd_dkms_device_attach at = { .size = sizeof(at) };

		if (!go)
			continue;
		if (n & 2) {
			cmd.id = stdev;
			cmd.mock_domain_replace.pt_id = ioas[n & 1];
			ioctl(fd, IOMMU_TEST_CMD, &cmd);
		} else {
			at.dev_id = idev;
			at.pt_id = ioas[n & 1];
			ioctl(fd, IOMMUFD_DKMS_DEVICE_ATTACH, &at);
		}
		n++;
	}
	return NULL;
}

int main(void)
{
	pthread_t th;
	int i;

	printf("TAP version 13\n1..1\n");
	fd = open("/dev/iommu", O_RDWR);
	if (fd < 0) {
		printf("ok 1 destroy_vs_replace # SKIP no /dev/iommu\n");
		return 0;
	}
	ioas[0] = ioas_alloc();
	ioas[1] = ioas_alloc();
	pthread_create(&th, NULL, replacer, NULL);
	for (i = 0; i < ITERATIONS; i++) {
		struct iommu_test_cmd md = {
			.size = sizeof(md),
			.op = IOMMU_TEST_OP_MOCK_DOMAIN,
			.id = ioas[0],
		};
		struct iommu_destroy d = { .size = sizeof(d) };

		if (ioctl(fd, IOMMU_TEST_CMD, &md)) {
			printf("not ok 1 destroy_vs_replace # MOCK_DOMAIN: %s\n",
			       strerror(errno));
			return 1;
		}
		stdev = md.mock_domain.out_stdev_id;
		idev = md.mock_domain.out_idev_id;
		go = 1;
		usleep(i % 50);
		d.id = md.mock_domain.out_stdev_id;
		ioctl(fd, IOMMU_DESTROY, &d);
		go = 0;
	}
	done = 1;
	pthread_join(th, NULL);
	close(fd);
	printf("ok 1 destroy_vs_replace_%d_iterations\n", ITERATIONS);
	return 0;
}
