// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 the iommufd-dkms authors.
 *
 * Print the binary layout of an iommufd user ABI header: for every structure
 * its size and alignment, for every member its offset, size and signedness,
 * and the value of every constant (ioctl numbers, enum values, flags).
 *
 * What to print is not listed here: check.sh derives it from a reference
 * header (a Debian kernel's include/uapi/linux/iommufd.h) and passes it in
 * abi_list.h.  The same list is then compiled once against the reference
 * header and once against ours; the two outputs must be identical.
 *
 * Build: cc -std=gnu11 -I<dir with abi_list.h> -I<dir with linux/iommufd.h>
 */
#include <stddef.h>
#include <stdio.h>

#include <linux/iommufd.h>

#define MEMBER(T, f) (((struct T *)0)->f)

/* A structure: size and alignment. */
#define ABI_STRUCT(T)							\
	printf("struct %s size=%zu align=%zu\n", #T,			\
	       sizeof(struct T), _Alignof(struct T));

/* A scalar member: offset, size, and whether its type is signed. */
#define ABI_FIELD(T, f)							\
	printf("field %s.%s offset=%zu size=%zu signed=%d\n", #T, #f,	\
	       offsetof(struct T, f), sizeof(MEMBER(T, f)),		\
	       (int)((__typeof__(MEMBER(T, f)))-1 < 0));

/* An array member: offset, total size, element size. */
#define ABI_ARRAY(T, f)							\
	printf("field %s.%s offset=%zu size=%zu elem=%zu\n", #T, #f,	\
	       offsetof(struct T, f), sizeof(MEMBER(T, f)),		\
	       sizeof(MEMBER(T, f)[0]));

/* A constant: an enumerator or an object-like macro. */
#define ABI_CONST(c)							\
	printf("const %s value=%#llx\n", #c, (unsigned long long)(c));

int main(void)
{
#include "abi_list.h"
	return 0;
}
