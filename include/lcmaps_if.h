/* lcmaps_if.h -- lcmaps-rs: the handle macros of the LCMAPS client API.
 * Source-compatible with the LCMAPS 1.6 header of the same name: define
 * LCMAPS_USE_DLOPEN to load the interface library at run time (see
 * _lcmaps.h), or link against it and the macros call it directly.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCMAPS_IF_H
#define LCMAPS_IF_H

#include "_lcmaps.h"

/* The dlopen()/dlsym() error of the last failing macro (char *). */
#define LCMAPS_ERRMSG(l) _LCMAPS_ERRMSG(l)
/* Load an optional function into the handle: 1 ok, 0 missing. */
#define LCMAPS_REQUIRE_FUNC(l, f) _LCMAPS_REQUIRE_FUNC(l, f)
/* The library's version numbers (0 when it has no version functions). */
#define LCMAPS_MAJOR_VERSION(handle) _LCMAPS_MAJOR_VERSION(handle)
#define LCMAPS_MINOR_VERSION(handle) _LCMAPS_MINOR_VERSION(handle)
#define LCMAPS_PATCH_VERSION(handle) _LCMAPS_PATCH_VERSION(handle)
/* Override the library file (or helper library) to load. */
#define LCMAPS_SET_LIBFILE_PATH(l, p) _LCMAPS_SET_LIBFILE_PATH(l, p)
#define LCMAPS_SET_HELPER_PATH(l, p) _LCMAPS_SET_HELPER_PATH(l, p)
/* The function f of the interface: LCMAPS_CALL(l, f)(args...). */
#define LCMAPS_CALL(l, f) _LCMAPS_CALL(l, f)

#endif /* LCMAPS_IF_H */
