// SPDX-License-Identifier: GPL-2.0
/*
 * Self-test mode: page requests of mock devices.
 *
 * IOMMU_TEST_OP_TRIGGER_IOPF makes a mock device issue one page request
 * that ends its group (upstream's mock marks every request the last of
 * its group), reported through fault.c as a real backend would report
 * a device's PRI requests.
 *
 * A mock device has no hardware to resume, so the answers it gets are
 * only counted, in /sys/kernel/debug/iommufd/selftest_iopf:
 *
 *   requests:	page request groups mock devices issued
 *   success:	groups answered IOMMUFD_PAGE_RESP_SUCCESS
 *   invalid:	groups answered IOMMUFD_PAGE_RESP_INVALID
 *
 * requests - success - invalid is what is still waiting for an answer;
 * the suites check it returns to where it started, which proves that
 * every group got exactly one answer whatever became of its queue, HWPT
 * or device.
 */
#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <uapi/linux/iommufd.h>
#include <uapi/linux/iommufd_test.h>

#include "iommufd_private.h"

static atomic64_t mock_iopf_requests;
static atomic64_t mock_iopf_success;
static atomic64_t mock_iopf_invalid;

int mock_iopf_trigger(struct iommufd_device *idev,
		      const struct iommu_test_cmd *cmd)
{
	struct iommufd_fault_record rec = {
		.flags = IOMMU_PGFAULT_FLAGS_LAST_PAGE,
		.pasid = cmd->trigger_iopf.pasid,
		.grpid = cmd->trigger_iopf.grpid,
		.perm = cmd->trigger_iopf.perm,
		.addr = cmd->trigger_iopf.addr,
	};

	/* PASID 0 is the requests without a PASID (IOMMU_NO_PASID). */
	if (rec.pasid)
		rec.flags |= IOMMU_PGFAULT_FLAGS_PASID_VALID;
	atomic64_inc(&mock_iopf_requests);
	/*
	 * A request nobody takes is answered at once, and the op still
	 * succeeds: the device did issue it, as upstream's mock does.
	 */
	iommufd_fault_report(idev, &rec, 1);
	return 0;
}

void mock_iopf_page_response(struct iommufd_device *idev,
			     const struct iommufd_fault_record *last, u32 code)
{
	if (code == IOMMUFD_PAGE_RESP_SUCCESS)
		atomic64_inc(&mock_iopf_success);
	else
		atomic64_inc(&mock_iopf_invalid);
}

static int selftest_iopf_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "requests:\t%lld\n", atomic64_read(&mock_iopf_requests));
	seq_printf(m, "success:\t%lld\n", atomic64_read(&mock_iopf_success));
	seq_printf(m, "invalid:\t%lld\n", atomic64_read(&mock_iopf_invalid));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(selftest_iopf);

/* In the module's debugfs directory, which goes with all it holds. */
void mock_iopf_debugfs_init(void)
{
	debugfs_create_file("selftest_iopf", 0400, iommufd_debugfs_dir, NULL,
			    &selftest_iopf_fops);
}
