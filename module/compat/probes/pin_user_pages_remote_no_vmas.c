// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_PIN_USER_PAGES_REMOTE_NO_VMAS: pin_user_pages_remote() lost its
 * struct vm_area_struct ** argument (6.5).
 */
#include <linux/mm.h>

long probe(struct mm_struct *mm, struct page **pages, int *locked);
long probe(struct mm_struct *mm, struct page **pages, int *locked)
{
	return pin_user_pages_remote(mm, 0, 1, FOLL_WRITE, pages, locked);
}
