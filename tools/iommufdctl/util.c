// SPDX-License-Identifier: GPL-2.0
/* Reading and writing the one-line files of sysfs and procfs. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iommufdctl.h"

/* The first line of @path without its newline (malloc'ed), or NULL. */
char *ifd_read_line(const char *path)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		/* An empty file is an empty value, not a missing one. */
		return strdup("");
	}
	fclose(f);
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	return strdup(buf);
}

/* One write(2), as sysfs attributes want; 0 or -errno. */
int ifd_write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int err;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	err = n < 0 ? -errno : (size_t)n == strlen(s) ? 0 : -EIO;
	close(fd);
	return err;
}

/* "  pid 1234 (qemu) fd 17" for each open /dev/iommu descriptor. */
int ifd_print_contexts_brief(const struct ifd_scan *scan, FILE *out)
{
	int i;

	for (i = 0; i < scan->nctx; i++)
		fprintf(out, "  pid %d (%s) fd %d\n", scan->ctx[i].pid,
			scan->ctx[i].comm, scan->ctx[i].fd);
	return scan->nctx;
}
