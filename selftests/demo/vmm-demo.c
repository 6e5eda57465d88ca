// SPDX-License-Identifier: GPL-2.0
/*
 * vmm-demo: what a VMM does first with /dev/iommu, narrated.
 *
 * Opens /dev/iommu, creates an IO address space, shows the kernel's answer
 * and tears it down.  Later capabilities (mapping guest memory, binding a
 * device and making it DMA) extend this same walk-through.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/iommufd.h>

static int fail(const char *what)
{
	printf("demo: %s failed: %s\n", what, strerror(errno));
	return 1;
}

int main(void)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_destroy destroy = { .size = sizeof(destroy) };
	struct stat st;
	int fd;

	if (stat("/dev/iommu", &st))
		return fail("stat /dev/iommu");
	printf("demo: /dev/iommu is a character device %u:%u, mode %o\n",
	       major(st.st_rdev), minor(st.st_rdev), st.st_mode & 07777);

	fd = open("/dev/iommu", O_RDWR);
	if (fd < 0)
		return fail("open /dev/iommu");
	printf("demo: opened /dev/iommu as fd %d (one iommufd context)\n", fd);

	if (ioctl(fd, IOMMU_IOAS_ALLOC, &alloc))
		return fail("IOMMU_IOAS_ALLOC");
	printf("demo: IOMMU_IOAS_ALLOC created IO address space id %u\n",
	       alloc.out_ioas_id);

	destroy.id = alloc.out_ioas_id;
	if (ioctl(fd, IOMMU_DESTROY, &destroy))
		return fail("IOMMU_DESTROY");
	printf("demo: IOMMU_DESTROY released id %u\n", destroy.id);

	if (ioctl(fd, IOMMU_DESTROY, &destroy) == 0 || errno != ENOENT)
		return fail("a second IOMMU_DESTROY (expected ENOENT)");
	printf("demo: destroying it again answers ENOENT, as it should\n");

	close(fd);
	printf("demo: closed the context; done\n");
	return 0;
}
