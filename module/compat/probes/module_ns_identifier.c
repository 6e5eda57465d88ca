// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_MODULE_NS_IDENTIFIER: symbol namespaces are named by a bare
 * identifier in EXPORT_SYMBOL_NS_GPL()/MODULE_IMPORT_NS(); from 6.13 they
 * are string literals, and an identifier no longer compiles.
 */
#include <linux/module.h>

MODULE_IMPORT_NS(IOMMUFD_PROBE);
