// SPDX-License-Identifier: GPL-2.0
/*
 * An unmodified VMM on the native iommufd path: the QEMU of Debian's
 * bookworm-backports (10.x, unpacked by qemu-backports.sh under
 * /opt/qemu-bpo in the guest image), assigning the edu device with
 * `-object iommufd` and vfio-pci through the VFIO device cdev, in both the
 * forms QEMU has: host=BDF (QEMU opens /dev/iommu and finds
 * /dev/vfio/devices/vfioN through sysfs) and fd= (descriptors opened by
 * its caller, as libvirt passes them).  With -S QEMU builds the machine,
 * which binds the device to the iommufd, attaches it and maps all guest
 * RAM with IOMMU_IOAS_MAP, then waits: we read its pins in its /dev/iommu
 * file's fdinfo and in its VmPin/VmLck (root: VmPin only, as upstream
 * charges a mapper with CAP_IPC_LOCK), then quit it through QMP as a
 * management tool does, expect a clean exit and see every object go.
 *
 * Skips where the guest image has no backports QEMU, no edu device, or
 * VFIO without the device cdev (Debian's own modules, 6.1).
 */
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>

#include "iommufd_harness.h"
#include "vfio_edu.h"

#define BPO		"/opt/qemu-bpo"
#define QEMU		BPO "/bin/qemu-system-x86_64"
#define QEMU_LOG	"/tmp/vmm_qemu_iommufd.log"
#define GUEST_RAM_MB	128
#define QMP_QUIT	"{\"execute\": \"qmp_capabilities\"}\n" \
			"{\"execute\": \"quit\"}\n"

/*
 * The cdev QEMU will find: /dev/vfio/devices/NAME, where vfio-dev/NAME has
 * a `dev` (major:minor) attribute.  VFIO registers vfio-dev/NAME with or
 * without the cdev; only the cdev gives it a device number.
 */
static int cdev_of(const char *bdf, char *path, size_t len)
{
	char dir[64], attr[340];
	struct dirent *e;
	int rc = -1;
	DIR *d;

	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "vfio", 4))
			continue;
		snprintf(attr, sizeof(attr), "%s/%s/dev", dir, e->d_name);
		snprintf(path, len, "/dev/vfio/devices/%s", e->d_name);
		if (!access(attr, R_OK) && !access(path, F_OK))
			rc = 0;
		break;
	}
	closedir(d);
	return rc;
}

/*
 * The value of @key in the fdinfo of @pid's /dev/iommu descriptor, or -1
 * when it has none open.
 */
static long qemu_iommufd_info(pid_t pid, const char *key)
{
	char dir[64], link[340], target[64], path[340], line[256];
	struct dirent *e;
	long v = -1;
	ssize_t n;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (!d)
		return -1;
	while (v < 0 && (e = readdir(d))) {
		FILE *f;

		snprintf(link, sizeof(link), "%s/%s", dir, e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (strcmp(target, "/dev/iommu"))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", pid,
			 e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, key, strlen(key)) &&
			    line[strlen(key)] == ':')
				v = atol(line + strlen(key) + 1);
		fclose(f);
	}
	closedir(d);
	return v;
}

struct vmm_run {
	char bdf[32];
	char cdev[300];
	long refs;
	pid_t pid;
	int qmp;	/* the write end of QEMU's QMP stdin */
};

/* edu on vfio-pci with its cdev; SKIP (returns 1) where there is none. */
static int vmm_prepare(struct vmm_run *r)
{
	int group_nr;

	if (access(QEMU, X_OK))
		SKIP("no backports QEMU in this guest image (qemu-backports.sh)");
	if (edu_find(r->bdf, sizeof(r->bdf)))
		SKIP("no edu device in this machine");
	if (edu_bind_vfio(r->bdf, &group_nr))
		return -1;
	if (cdev_of(r->bdf, r->cdev, sizeof(r->cdev)))
		SKIP("VFIO has no device cdev here (Debian's own modules, or 6.1)");
	r->refs = module_refcnt("iommufd");
	return 0;
}

/*
 * In the child: QEMU with its QMP monitor on stdin (@qmp_in, the read end
 * of the test's pipe), what it prints in QEMU_LOG.
 */
static void vmm_exec(int qmp_in, const char *object, const char *device)
{
	char mem[16];

	snprintf(mem, sizeof(mem), "%d", GUEST_RAM_MB);
	setenv("QEMU_MODULE_DIR", BPO "/lib/qemu", 1);
	if (dup2(qmp_in, 0) < 0 || !freopen(QEMU_LOG, "w", stdout) ||
	    dup2(1, 2) < 0)
		_exit(126);
	execl(QEMU, QEMU, "-S", "-M", "q35", "-accel", "tcg", "-m", mem,
	      "-L", BPO "/share/qemu", "-L", BPO "/share/seabios",
	      "-nodefaults", "-display", "none", "-monitor", "none",
	      "-qmp", "stdio", "-serial", "none", "-object", object,
	      "-device", device, (char *)NULL);
	_exit(127);
}

static void print_qemu_log(int status)
{
	FILE *f = fopen(QEMU_LOG, "r");
	char line[256];

	TEST_LOG("QEMU ended with status 0x%x (signal %d); it said:", status,
		 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	while (f && fgets(line, sizeof(line), f))
		TEST_LOG("  %s", line);
	if (f)
		fclose(f);
}

/*
 * QEMU maps its RAM while it builds the machine: wait for the pins, look
 * at them, quit it and wait for everything to go.
 */
static void vmm_check(struct vmm_run *r)
{
	long pinned = -1, vmpin = -1, ioas, dev;
	int i, status = 0;

	for (i = 0; i < 600; i++) {
		pinned = qemu_iommufd_info(r->pid, "iommufd-pinned-pages");
		if (pinned >= GUEST_RAM_MB * 256L ||
		    waitpid(r->pid, &status, WNOHANG))
			break;
		usleep(100 * 1000);
	}
	if (pinned < 0) {
		print_qemu_log(status);
		ASSERT_LE(0, pinned);
	}
	vmpin = status_kb(r->pid, "VmPin:");
	ioas = qemu_iommufd_info(r->pid, "iommufd-ioas");
	dev = qemu_iommufd_info(r->pid, "iommufd-device");
	TEST_LOG("QEMU (pid %d): pinned %ld pages, ioas %ld, device %ld, VmPin %ld kB, VmLck %ld kB",
		 r->pid, pinned, ioas, dev, vmpin,
		 status_kb(r->pid, "VmLck:"));
	/* All of its RAM, through IOMMU_IOAS_MAP of one IOAS. */
	EXPECT_LE(GUEST_RAM_MB * 256L, pinned);
	EXPECT_EQ(1, ioas);
	EXPECT_EQ(1, dev);
	/* Root has CAP_IPC_LOCK: VmPin counts the pins, nothing is charged. */
	EXPECT_LE(GUEST_RAM_MB * 1024L, vmpin);
	EXPECT_EQ(0, status_kb(r->pid, "VmLck:"));
	EXPECT_EQ(0, qemu_iommufd_info(r->pid, "iommufd-charged-pages"));
	EXPECT_LT(r->refs, module_refcnt("iommufd"));

	/* A management tool's clean quit: QMP's "quit", exit status 0. */
	ASSERT_EQ((ssize_t)strlen(QMP_QUIT),
		  write(r->qmp, QMP_QUIT, strlen(QMP_QUIT)));
	close(r->qmp);
	ASSERT_EQ(r->pid, waitpid(r->pid, &status, 0));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		print_qemu_log(status);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	for (i = 0; i < 50 && module_refcnt("iommufd") != r->refs; i++)
		usleep(100 * 1000);
	ASSERT_EQ(r->refs, module_refcnt("iommufd"));
}

static void vmm_start(struct vmm_run *r, const char *object,
		      const char *device)
{
	int p[2];

	ASSERT_EQ(0, pipe(p));
	r->pid = fork();
	ASSERT_NE(-1, r->pid);
	if (r->pid == 0) {
		close(p[1]);
		vmm_exec(p[0], object, device);
	}
	close(p[0]);
	r->qmp = p[1];
}

TEST_TIMEOUT(qemu_host_form_maps_its_ram_through_our_iommufd, 180)
{
	struct vmm_run r = { 0 };
	char device[96];

	ASSERT_EQ(0, vmm_prepare(&r));
	snprintf(device, sizeof(device), "vfio-pci,host=%s,iommufd=fd0",
		 r.bdf);
	vmm_start(&r, "iommufd,id=fd0", device);
	vmm_check(&r);
}

TEST_TIMEOUT(qemu_fd_form_uses_the_descriptors_it_is_given, 180)
{
	char object[64], device[64];
	struct vmm_run r = { 0 };
	int iommufd, devfd;

	ASSERT_EQ(0, vmm_prepare(&r));
	/* Without O_CLOEXEC: QEMU inherits them, as from libvirt. */
	iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, iommufd);
	devfd = open(r.cdev, O_RDWR);
	ASSERT_LE(0, devfd);
	snprintf(object, sizeof(object), "iommufd,id=fd0,fd=%d", iommufd);
	snprintf(device, sizeof(device), "vfio-pci,iommufd=fd0,fd=%d", devfd);
	vmm_start(&r, object, device);
	/* Ours closed, QEMU's copies are the only ones. */
	close(iommufd);
	close(devfd);
	vmm_check(&r);
}

TEST_HARNESS_MAIN
