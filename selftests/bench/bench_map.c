// SPDX-License-Identifier: GPL-2.0
/*
 * bench_map: how fast guest memory gets mapped for a device, in one boot,
 * on the same device (QEMU's edu under the emulated IOMMU) and the same
 * buffers:
 *   - the kernel's own VFIO type1 (VFIO_IOMMU_MAP_DMA / UNMAP_DMA),
 *   - our type1 compatibility (iommufd_vfio with type1=1, same ioctls),
 *   - native iommufd (IOMMU_IOAS_MAP / UNMAP on an IOAS the device is
 *     attached to),
 * for 4 KiB-backed and THP-backed memory.  Then IOMMU_IOAS_COPY against a
 * fresh IOMMU_IOAS_MAP, and the kernel memory the module itself uses per
 * pinned GiB.  It prints figures and ratios and asserts nothing.  Each
 * figure is the best of the runs (3 by default), so that one slow run under
 * emulation does not decide a ratio; the median is printed too.
 *
 * Usage: bench_map [-b 4k|thp] [-r RUNS] [-s MIN_MiB] [MAX_MiB]
 *   MAX_MiB  largest size (default 1024); sizes double from MIN_MiB (64)
 *   -b       one backing only, and no IOAS_COPY or memory figures (for
 *            A/B comparisons of two module builds in one boot)
 *   -r       runs per figure (default 3)
 */
#include <linux/iommufd.h>
#include <linux/iommufd_dkms.h>

#include "vfio_edu.h"

#define MiB (1UL << 20)
#define MAX_RUNS 64
#define IOVA_BASE 0x100000000ULL	/* above the edu's needs: no DMA here */

enum backing { SMALL_PAGES, THP };
enum path { TYPE1, COMPAT, NATIVE, NPATHS };
static const char *const path_names[] = { "kernel type1", "our type1 compat",
					  "native IOAS_MAP" };

struct result {
	double map_s;
	double unmap_s;
	double map_med_s;
};

static int repeats = 3;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *alloc_backed(size_t len, enum backing backing)
{
	size_t align = 2 * MiB;
	uint8_t *raw, *buf;
	size_t i;

	raw = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	buf = (uint8_t *)(((uintptr_t)raw + align - 1) & ~(align - 1));
	madvise(buf, len, backing == THP ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	/* Fault everything in: pinning speed, not page faults, is measured. */
	for (i = 0; i < len; i += 4096)
		buf[i] = 1;
	return buf;
}

/*
 * How much of [buf, buf + len) the kernel backs with huge pages: the
 * AnonHugePages of the mapping that holds @buf in /proc/self/smaps.  A
 * THP-backed figure means little when the guest could not find free
 * 2 MiB blocks for all of the buffer.
 */
static long thp_backed_kib(void *buf)
{
	unsigned long lo, hi, at = (uintptr_t)buf;
	char line[256];
	long kib = -1;
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = lo <= at && at < hi;
			continue;
		}
		if (in && !strncmp(line, "AnonHugePages:", 14))
			kib = atol(line + 14);
	}
	fclose(f);
	return kib;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int set_type1_param(int on)
{
	return sysfs_write("/sys/module/iommufd_vfio/parameters/type1",
			   on ? "1" : "0");
}

/* Map and unmap @len of @buf through a type1 container (kernel's or ours). */
static int bench_type1(void *buf, size_t len, struct result *r, int ours)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)buf,
		.iova = IOVA_BASE,
		.size = len,
	};
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = IOVA_BASE,
		.size = len,
	};
	struct edu edu;
	double t;
	int rc;

	if (set_type1_param(ours))
		return -EIO;
	rc = edu_open(&edu, VFIO_TYPE1v2_IOMMU);
	if (rc)
		goto out;
	t = now();
	if (ioctl(edu.container_fd, VFIO_IOMMU_MAP_DMA, &map)) {
		rc = edu_err("VFIO_IOMMU_MAP_DMA");
		goto out;
	}
	r->map_s = now() - t;
	t = now();
	if (ioctl(edu.container_fd, VFIO_IOMMU_UNMAP_DMA, &unmap)) {
		rc = edu_err("VFIO_IOMMU_UNMAP_DMA");
		goto out;
	}
	r->unmap_s = now() - t;
out:
	edu_close(&edu);
	set_type1_param(0);
	return rc;
}

/* A container in iommufd mode with the device attached to a new IOAS. */
struct native {
	struct edu edu;
	int fd;
	uint32_t ioas_id;
};

static int native_open(struct native *n)
{
	struct iommufd_dkms_vfio_link link = { .size = sizeof(link) };
	struct iommufd_dkms_vfio_device dev;
	struct iommufd_dkms_vfio_devices list = {
		.size = sizeof(list),
		.num_devices = 1,
		.devices = (uintptr_t)&dev,
	};
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommufd_dkms_device_attach attach = { .size = sizeof(attach) };
	int rc;

	rc = edu_open(&n->edu, VFIO_IOMMUFD_DKMS_IOMMU);
	if (rc)
		return rc;
	n->fd = open("/dev/iommu", O_RDWR);
	if (n->fd < 0)
		return edu_err("open /dev/iommu");
	link.iommufd = n->fd;
	if (ioctl(n->edu.container_fd, IOMMUFD_DKMS_VFIO_LINK, &link) ||
	    ioctl(n->edu.container_fd, IOMMUFD_DKMS_VFIO_DEVICES, &list) ||
	    ioctl(n->fd, IOMMU_IOAS_ALLOC, &alloc))
		return edu_err("setting up the IOAS");
	n->ioas_id = alloc.out_ioas_id;
	attach.dev_id = dev.dev_id;
	attach.pt_id = n->ioas_id;
	if (ioctl(n->fd, IOMMUFD_DKMS_DEVICE_ATTACH, &attach))
		return edu_err("IOMMUFD_DKMS_DEVICE_ATTACH");
	return 0;
}

static void native_close(struct native *n)
{
	edu_close(&n->edu);
	close(n->fd);
}

static int ioas_map(int fd, uint32_t ioas_id, void *buf, size_t len,
		    uint64_t iova)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)buf,
		.length = len,
		.iova = iova,
	};

	return ioctl(fd, IOMMU_IOAS_MAP, &map) ? edu_err("IOMMU_IOAS_MAP") : 0;
}

static int ioas_unmap(int fd, uint32_t ioas_id, uint64_t iova, size_t len)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = len,
	};

	return ioctl(fd, IOMMU_IOAS_UNMAP, &unmap) ?
		       edu_err("IOMMU_IOAS_UNMAP") : 0;
}

static int bench_native(void *buf, size_t len, struct result *r)
{
	struct native n;
	double t;
	int rc;

	rc = native_open(&n);
	if (rc)
		goto out;
	t = now();
	rc = ioas_map(n.fd, n.ioas_id, buf, len, IOVA_BASE);
	r->map_s = now() - t;
	if (rc)
		goto out;
	t = now();
	rc = ioas_unmap(n.fd, n.ioas_id, IOVA_BASE, len);
	r->unmap_s = now() - t;
out:
	native_close(&n);
	return rc;
}

static long meminfo_kb(const char *file, const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen(file, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = atol(line + strlen(key));
	fclose(f);
	return v;
}

/*
 * Kernel memory per pinned GiB: slab growth (our areas, pages objects and
 * any PFN storage) while 1 GiB of 4 KiB pages is mapped for the device,
 * apart from the IOMMU driver's own page tables, which any implementation
 * needs (reported separately where the kernel counts them).
 */
static void bench_memory(void *buf, size_t len)
{
	long slab0, slab1, iommu0, iommu1;
	struct native n;

	if (native_open(&n))
		goto out;
	sync();
	slab0 = meminfo_kb("/proc/meminfo", "SUnreclaim:");
	iommu0 = meminfo_kb("/proc/vmstat", "nr_iommu_pages ");
	if (ioas_map(n.fd, n.ioas_id, buf, len, IOVA_BASE))
		goto out;
	slab1 = meminfo_kb("/proc/meminfo", "SUnreclaim:");
	iommu1 = meminfo_kb("/proc/vmstat", "nr_iommu_pages ");
	ioas_unmap(n.fd, n.ioas_id, IOVA_BASE, len);
	printf("# kernel memory while %zu MiB of 4 KiB pages are pinned and mapped:\n",
	       len / MiB);
	printf("#   module (slab growth): %ld KiB = %.2f bytes per pinned 4 KiB page\n",
	       slab1 - slab0, (slab1 - slab0) * 1024.0 / (len / 4096));
	if (iommu0 >= 0)
		printf("#   IOMMU driver page tables: %ld KiB (%.2f bytes per page; needed by any implementation)\n",
		       (iommu1 - iommu0) * 4, (iommu1 - iommu0) * 4096.0 /
						      (len / 4096));
out:
	native_close(&n);
}

/*
 * IOAS_COPY against a fresh IOAS_MAP, both into a second IOAS that a
 * second edu device is attached to (so both fill a real domain): the copy
 * reuses the pins of the first IOAS and reads the PFNs back from its
 * domain; the fresh map pins other (already faulted-in) memory.
 */
static void bench_copy(void *buf, void *fresh, size_t len)
{
	struct iommufd_dkms_vfio_device devs[2];
	struct iommufd_dkms_vfio_devices list = {
		.size = sizeof(list),
		.num_devices = 2,
		.devices = (uintptr_t)devs,
	};
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommufd_dkms_device_attach attach = { .size = sizeof(attach) };
	struct iommu_ioas_copy copy = {
		.size = sizeof(copy),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.length = len,
		.src_iova = IOVA_BASE,
		.dst_iova = IOVA_BASE,
	};
	struct edu second = { .group_fd = -1, .device_fd = -1 };
	double t_copy = 0, t_map = 0, t;
	struct native n;
	uint32_t i;
	int rep;

	if (native_open(&n))
		goto out;
	if (edu_open_second(&second, n.edu.container_fd, 1)) {
		printf("# IOAS_COPY: skipped (no second edu device)\n");
		goto out;
	}
	if (ioctl(n.edu.container_fd, IOMMUFD_DKMS_VFIO_DEVICES, &list) ||
	    ioctl(n.fd, IOMMU_IOAS_ALLOC, &alloc)) {
		edu_err("second device");
		goto out;
	}
	for (i = 0; i < list.num_devices; i++)
		if (!strcmp(devs[i].name, second.bdf))
			attach.dev_id = devs[i].dev_id;
	attach.pt_id = alloc.out_ioas_id;
	if (ioctl(n.fd, IOMMUFD_DKMS_DEVICE_ATTACH, &attach)) {
		edu_err("attaching the second device");
		goto out;
	}
	if (ioas_map(n.fd, n.ioas_id, buf, len, IOVA_BASE))
		goto out;
	copy.src_ioas_id = n.ioas_id;
	copy.dst_ioas_id = alloc.out_ioas_id;
	for (rep = 0; rep < repeats; rep++) {
		t = now();
		if (ioctl(n.fd, IOMMU_IOAS_COPY, &copy)) {
			edu_err("IOMMU_IOAS_COPY");
			goto out;
		}
		t = now() - t;
		if (!rep || t < t_copy)
			t_copy = t;
		ioas_unmap(n.fd, alloc.out_ioas_id, IOVA_BASE, len);
		t = now();
		if (ioas_map(n.fd, alloc.out_ioas_id, fresh, len, IOVA_BASE))
			goto out;
		t = now() - t;
		if (!rep || t < t_map)
			t_map = t;
		ioas_unmap(n.fd, alloc.out_ioas_id, IOVA_BASE, len);
	}
	printf("# IOAS_COPY of a mapped %zu MiB into a second device's IOAS: %.3f s; fresh IOAS_MAP of other memory there: %.3f s; copy is %.1fx faster\n",
	       len / MiB, t_copy, t_map, t_map / t_copy);
out:
	edu_close(&second);
	native_close(&n);
}

int main(int argc, char **argv)
{
	static const char *const backing_names[] = { "4 KiB", "THP" };
	enum backing backing, first = SMALL_PAGES, last = THP;
	struct result res[2][NPATHS];
	size_t len, max, min = 64 * MiB;
	int opt, p;

	while ((opt = getopt(argc, argv, "b:r:s:")) != -1) {
		switch (opt) {
		case 'b':
			first = last = strcmp(optarg, "thp") ? SMALL_PAGES :
							       THP;
			break;
		case 'r':
			repeats = atoi(optarg);
			break;
		case 's':
			min = strtoul(optarg, NULL, 0) * MiB;
			break;
		default:
			fprintf(stderr, "usage: %s [-b 4k|thp] [-r RUNS] [-s MIN_MiB] [MAX_MiB]\n",
				argv[0]);
			return 2;
		}
	}
	if (repeats < 1 || repeats > MAX_RUNS || !min)
		return 2;
	max = (optind < argc ? strtoul(argv[optind], NULL, 0) : 1024) * MiB;

	printf("# bench_map: times in seconds (GiB/s, Mpages/s), best of %d runs (median in []), same boot and device\n",
	       repeats);
	memset(res, 0, sizeof(res));
	for (backing = first; backing <= last; backing++) {
		for (len = min; len <= max; len *= 2) {
			void *buf = alloc_backed(len, backing);

			if (!buf) {
				printf("# %zu MiB: out of memory\n", len / MiB);
				break;
			}
			if (backing == THP)
				printf("# THP %zu MiB buffer: %ld MiB of it in huge pages\n",
				       len / MiB, thp_backed_kib(buf) / 1024);
			for (p = 0; p < NPATHS; p++) {
				struct result *r = &res[backing][p];
				double maps[MAX_RUNS];
				int rc = 0, rep;

				memset(r, 0, sizeof(*r));
				for (rep = 0; rep < repeats && !rc; rep++) {
					struct result one = { 0 };

					if (p == NATIVE)
						rc = bench_native(buf, len, &one);
					else
						rc = bench_type1(buf, len, &one,
								 p == COMPAT);
					maps[rep] = one.map_s;
					if (!rep || one.map_s < r->map_s)
						r->map_s = one.map_s;
					if (!rep || one.unmap_s < r->unmap_s)
						r->unmap_s = one.unmap_s;
				}
				if (rc) {
					printf("# %s failed: %d\n",
					       path_names[p], rc);
					continue;
				}
				qsort(maps, rep, sizeof(*maps), cmp_double);
				r->map_med_s = maps[rep / 2];
				printf("%-6s %5zu MiB %-17s map %7.4f s [%7.4f] (%6.2f GiB/s, %6.2f Mpg/s)  unmap %7.4f s (%6.2f GiB/s)\n",
				       backing_names[backing], len / MiB,
				       path_names[p], r->map_s, r->map_med_s,
				       len / (double)(1UL << 30) / r->map_s,
				       len / 4096.0 / 1e6 / r->map_s,
				       r->unmap_s,
				       len / (double)(1UL << 30) / r->unmap_s);
			}
			if (res[backing][TYPE1].map_s > 0)
				printf("%-6s %5zu MiB ratios to type1: native map %.2f unmap %.2f; compat map %.2f unmap %.2f\n",
				       backing_names[backing], len / MiB,
				       res[backing][NATIVE].map_s /
					       res[backing][TYPE1].map_s,
				       res[backing][NATIVE].unmap_s /
					       res[backing][TYPE1].unmap_s,
				       res[backing][COMPAT].map_s /
					       res[backing][TYPE1].map_s,
				       res[backing][COMPAT].unmap_s /
					       res[backing][TYPE1].unmap_s);
			munmap(buf, len);
		}
	}
	if (res[THP][NATIVE].map_s > 0 && res[SMALL_PAGES][NATIVE].map_s > 0)
		printf("# native IOAS_MAP of the largest size: THP-backed is %.1fx faster than 4 KiB-backed\n",
		       res[SMALL_PAGES][NATIVE].map_s / res[THP][NATIVE].map_s);
	if (first == last)
		return 0;

	len = max < 1024 * MiB ? max : 1024 * MiB;
	{
		void *buf = alloc_backed(len, SMALL_PAGES);
		void *fresh = alloc_backed(len, SMALL_PAGES);

		if (buf && fresh) {
			bench_copy(buf, fresh, len);
			bench_memory(buf, len);
		}
	}
	return 0;
}
