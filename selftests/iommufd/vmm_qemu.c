// SPDX-License-Identifier: GPL-2.0
/*
 * An unmodified VMM on our VFIO type1 compatibility: Debian's own QEMU,
 * inside the test guest, assigns the edu device with vfio-pci through its
 * legacy container path (VFIO_TYPE1v2_IOMMU, which iommufd_vfio with
 * type1=1 serves).  With -S QEMU sets up the machine, maps all guest RAM
 * for the device through VFIO_IOMMU_MAP_DMA, and waits without running the
 * nested guest: we watch its locked memory grow by that RAM (type1
 * accounting is per process), check the container is ours, and end it.
 * Skips where the guest image has no QEMU or no edu device.
 */
#include <signal.h>
#include <sys/wait.h>
#include <linux/iommufd_dkms.h>

#include "iommufd_harness.h"
#include "vfio_edu.h"

#define QEMU		"/usr/bin/qemu-system-x86_64"
#define GUEST_RAM_MB	128

TEST_TIMEOUT(qemu_assigns_the_edu_device_through_our_type1_compat, 120)
{
	char bdf[32], host[64], mem[16];
	long refs, lck = 0;
	int group_nr, i, status;
	pid_t pid;

	if (access(QEMU, X_OK))
		SKIP("no QEMU in this guest image");
	if (access("/sys/module/iommufd_vfio/parameters/type1", F_OK))
		SKIP("iommufd_vfio is not loaded");
	if (edu_find(bdf, sizeof(bdf)))
		SKIP("no edu device in this machine");
	ASSERT_EQ(0, edu_bind_vfio(bdf, &group_nr));
	ASSERT_EQ(0, sysfs_write("/sys/module/iommufd_vfio/parameters/type1",
				 "1"));
	refs = module_refcnt("iommufd_vfio");

	snprintf(host, sizeof(host), "vfio-pci,host=%s", bdf);
	snprintf(mem, sizeof(mem), "%d", GUEST_RAM_MB);
	pid = fork();
	ASSERT_NE(-1, pid);
	if (pid == 0) {
		/* Root has CAP_IPC_LOCK: not limited, yet charged. */
		execl(QEMU, QEMU, "-S", "-M", "q35", "-accel", "tcg", "-m", mem,
		      "-nodefaults", "-display", "none", "-monitor", "none",
		      "-serial", "none", "-device", host, (char *)NULL);
		_exit(127);
	}
	/* QEMU maps RAM while it builds the machine: wait for the charge. */
	for (i = 0; i < 400; i++) {
		lck = status_kb(pid, "VmLck:");
		if (lck >= GUEST_RAM_MB * 1024 || waitpid(pid, &status, WNOHANG))
			break;
		usleep(100 * 1000);
	}
	TEST_LOG("QEMU (pid %d) VmLck: %ld kB, VmPin: %ld kB", pid, lck,
		 status_kb(pid, "VmPin:"));
	/*
	 * Its container holds our backend (and so does the HWPT made for
	 * its device): it is us serving type1.
	 */
	EXPECT_LT(refs, module_refcnt("iommufd_vfio"));
	/* Charged as type1 charges: VmLck, not VmPin, even for root. */
	EXPECT_GE(lck, GUEST_RAM_MB * 1024);
	EXPECT_EQ(0, status_kb(pid, "VmPin:"));
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	/* Gone with the process: the container and its pins. */
	for (i = 0; i < 50 && module_refcnt("iommufd_vfio") != refs; i++)
		usleep(100 * 1000);
	ASSERT_EQ(refs, module_refcnt("iommufd_vfio"));
}

TEST_HARNESS_MAIN
