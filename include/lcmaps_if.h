/* lcmaps_if.h -- lcmaps-rs: interface macros
 * Source-compatible with the LCMAPS 1.6 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCMAPS_IF_H
#define LCMAPS_IF_H

/* The LCMAPS_USE_DLOPEN handle macros of LCMAPS are not provided by
 * lcmaps-rs; link with -llcmaps directly. */
#ifdef LCMAPS_USE_DLOPEN
#error "lcmaps-rs headers do not provide the LCMAPS_USE_DLOPEN macros; link against liblcmaps directly"
#endif

#endif /* LCMAPS_IF_H */
