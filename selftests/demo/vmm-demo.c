// SPDX-License-Identifier: GPL-2.0
/*
 * vmm-demo: what a VMM does with /dev/iommu and a passed-through device,
 * narrated step by step.
 *
 * It takes QEMU's edu device (our "guest's" device), leaves it to VFIO for
 * its BARs, links the VFIO container to an iommufd, maps 64 MiB of "guest
 * RAM" into an IO address space, attaches the device, and makes the
 * device's DMA engine copy a message from one guest-physical address to
 * another, through the IOMMU.  Then it unmaps the destination and shows
 * that the device can no longer write there.
 */
#include <linux/iommufd.h>
#include <linux/iommufd_dkms.h>

#include "vfio_edu.h"

#define GUEST_RAM	(64UL << 20)
#define GPA_SRC		0x100000ULL
#define GPA_DST		0x800000ULL

static int fail(const char *what)
{
	printf("demo: %s failed: %s\n", what, strerror(errno));
	return 1;
}

static void show_accounting(const char *when)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmPin:", 6) || !strncmp(line, "VmLck:", 6)) {
			line[strcspn(line, "\n")] = 0;
			printf("demo:   %s %s\n", when, line);
		}
	fclose(f);
}

int main(void)
{
	struct iommufd_dkms_vfio_link link = { .size = sizeof(link) };
	struct iommufd_dkms_vfio_device dev;
	struct iommufd_dkms_vfio_devices list = {
		.size = sizeof(list),
		.num_devices = 1,
		.devices = (uintptr_t)&dev,
	};
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_ioas_map map = { .size = sizeof(map) };
	struct iommu_ioas_unmap unmap = { .size = sizeof(unmap) };
	struct iommufd_dkms_device_attach attach = { .size = sizeof(attach) };
	const char msg[] = "Hello from the edu device, DMA'd through the IOMMU by iommufd-dkms!";
	struct edu edu;
	uint8_t *ram;
	int iommufd, rc;

	printf("demo: step 1: find the device and hand it to VFIO\n");
	rc = edu_open(&edu, VFIO_IOMMUFD_DKMS_IOMMU);
	if (rc)
		return fail("opening the edu device through VFIO");
	printf("demo:   edu device %s, IOMMU group %d, VFIO container served by iommufd-dkms\n",
	       edu.bdf, edu.group_nr);

	printf("demo: step 2: open /dev/iommu and link the container to it\n");
	iommufd = open("/dev/iommu", O_RDWR);
	if (iommufd < 0)
		return fail("open /dev/iommu");
	link.iommufd = iommufd;
	if (ioctl(edu.container_fd, IOMMUFD_DKMS_VFIO_LINK, &link) ||
	    ioctl(edu.container_fd, IOMMUFD_DKMS_VFIO_DEVICES, &list))
		return fail("linking the container");
	printf("demo:   the device is iommufd object dev_id %u (%s)\n",
	       dev.dev_id, dev.name);

	printf("demo: step 3: map 64 MiB of guest RAM at guest-physical 0\n");
	ram = mmap(NULL, GUEST_RAM, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		return fail("allocating guest RAM");
	memset(ram, 0, GUEST_RAM);
	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc))
		return fail("IOMMU_IOAS_ALLOC");
	map.ioas_id = alloc.out_ioas_id;
	map.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
		    IOMMU_IOAS_MAP_WRITEABLE;
	map.user_va = (uintptr_t)ram;
	map.length = GUEST_RAM;
	map.iova = 0;
	show_accounting("before the device is attached:");
	if (ioctl(iommufd, IOMMU_IOAS_MAP, &map))
		return fail("IOMMU_IOAS_MAP");
	printf("demo:   IOAS %u maps IOVA 0..0x%llx to the VMM's memory (not pinned yet: no domain)\n",
	       alloc.out_ioas_id, (unsigned long long)GUEST_RAM - 1);

	printf("demo: step 4: attach the device to the IOAS\n");
	attach.dev_id = dev.dev_id;
	attach.pt_id = alloc.out_ioas_id;
	if (ioctl(iommufd, IOMMUFD_DKMS_DEVICE_ATTACH, &attach))
		return fail("IOMMUFD_DKMS_DEVICE_ATTACH");
	printf("demo:   attached through HWPT %u, a real IOMMU domain filled with the 64 MiB\n",
	       attach.pt_id);
	show_accounting("pinned for the device:");

	printf("demo: step 5: the device copies a message from GPA 0x%llx to GPA 0x%llx\n",
	       GPA_SRC, GPA_DST);
	if (edu_open_device(&edu))
		return fail("opening the device");
	memcpy(ram + GPA_SRC, msg, sizeof(msg));
	if (edu_dma(&edu, GPA_SRC, 0, sizeof(msg), 0) ||
	    edu_dma(&edu, GPA_DST, 0, sizeof(msg), 1))
		return fail("DMA");
	printf("demo:   guest RAM at 0x%llx now reads: \"%s\"\n", GPA_DST,
	       (char *)ram + GPA_DST);
	if (memcmp(ram + GPA_DST, msg, sizeof(msg)))
		return fail("checking the copy");

	printf("demo: step 6: unmap the destination; the IOMMU must stop the device\n");
	unmap.ioas_id = alloc.out_ioas_id;
	unmap.iova = 0;
	unmap.length = UINT64_MAX;
	if (ioctl(iommufd, IOMMU_IOAS_UNMAP, &unmap))
		return fail("IOMMU_IOAS_UNMAP");
	memset(ram + GPA_DST, 0, sizeof(msg));
	if (edu_dma(&edu, GPA_DST, 0, sizeof(msg), 1))
		return fail("DMA");
	printf("demo:   after the unmap the DMA wrote nothing: %s (the fault is in the kernel log)\n",
	       ram[GPA_DST] == 0 ? "correct" : "WRONG");
	if (ram[GPA_DST])
		return 1;
	show_accounting("after the unmap:");

	edu_close(&edu);
	close(iommufd);
	printf("demo: done: the device DMA'd through iommufd on a stock distro kernel\n");
	return 0;
}
