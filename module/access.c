// SPDX-License-Identifier: GPL-2.0
/*
 * In-kernel accesses to an IOAS: an emulated device or the self-test pins
 * pages by IOVA, and must let go when user space unmaps them.
 */
#include "iommufd_private.h"

/*
 * Ask every access of @iopt to drop its pins inside [iova, iova + length).
 * Returns once they have been told; the unmap then looks again.
 */
int iommufd_access_notify_unmap(struct io_pagetable *iopt, unsigned long iova,
				unsigned long length)
{
	/* No access object can attach yet, so nobody holds pins to drop. */
	return WARN_ON_ONCE(!xa_empty(&iopt->access_list)) ? -EDEADLK : 0;
}

/* The largest IOVA alignment an access of @iopt needs (1 if none). */
unsigned long iommufd_access_max_alignment(struct io_pagetable *iopt)
{
	return 1;
}
