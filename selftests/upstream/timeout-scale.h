/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Forced into upstream's kselftest programs at build time (gcc -include):
 * their harness arms alarm() with a fixed per-test timeout made for
 * production kernels, and the debug kernel under TCG runs the same test
 * ten to fifty times slower.  TEST_TIMEOUT_SCALE in the environment (the
 * guest runner sets it on the debug kernel, as it does for our suites)
 * multiplies every timeout; unset, nothing changes.  Upstream's source
 * stays as the package ships it.
 */
#ifndef IOMMUFD_DKMS_TIMEOUT_SCALE_H
#define IOMMUFD_DKMS_TIMEOUT_SCALE_H

#include <stdlib.h>
#include <unistd.h>

static inline unsigned int scaled_alarm(unsigned int seconds)
{
	const char *env = getenv("TEST_TIMEOUT_SCALE");
	unsigned long scale = env ? strtoul(env, NULL, 10) : 1;

	if (!scale || scale > 1000)
		scale = 1;
	return alarm(seconds * scale);
}
#define alarm(seconds) scaled_alarm(seconds)

#endif
