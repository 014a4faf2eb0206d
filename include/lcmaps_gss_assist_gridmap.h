/* lcmaps_gss_assist_gridmap.h -- lcmaps-rs: drop-in for Globus' gridmap callout
 * Source-compatible with the LCMAPS 1.6 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCMAPS_GSS_ASSIST_GRIDMAP_H
#define LCMAPS_GSS_ASSIST_GRIDMAP_H

#include "lcmaps_basic.h"

typedef int globus_gss_assist_gridmap_t(char *globusidp, char **useridp);

#ifdef __cplusplus
extern "C" {
#endif

#ifndef LCMAPS_USE_DLOPEN
/* 0 mapped (*useridp malloc'ed), non-zero not mapped. */
globus_gss_assist_gridmap_t globus_gss_assist_gridmap;
#endif

#ifdef __cplusplus
}
#endif

/* LCMAPS_USE_DLOPEN handle of this interface (see lcmaps_if.h). */
#ifdef LCMAPS_USE_DLOPEN
#define LCMAPS_LIB_GSS_ASSIST_GRIDMAP "liblcmaps_gss_assist_gridmap" LIBSUFF
typedef struct _lcmaps_handle_gss_assist_gridmap_s {
    _LCMAPS_HANDLE_COMMON_MEMBERS;
    lcmaps_init_t *lcmaps_init;
    globus_gss_assist_gridmap_t *lcmaps_gss_assist_gridmap;
    lcmaps_term_t *lcmaps_term;
} _lcmaps_handle_gss_assist_gridmap_t;
#define _LCMAPS_DECL_HANDLE_GSS_ASSIST_GRIDMAP(l) \
    _lcmaps_handle_gss_assist_gridmap_t l = _LCMAPS_HANDLE_INITIALIZER(LCMAPS_LIB_GSS_ASSIST_GRIDMAP)
#define _LCMAPS_INIT_HANDLE_GSS_ASSIST_GRIDMAP(l) \
    _LCMAPS_INIT_HANDLE(l, _lcmaps_handle_gss_assist_gridmap_t, LCMAPS_LIB_GSS_ASSIST_GRIDMAP)
#define _LCMAPS_LOAD_GSS_ASSIST_GRIDMAP(l) \
    (_LCMAPS_LOAD_INTERFACE_WITH_FIX(l) \
     && LCMAPS_LOAD_FUNC(l, lcmaps_init) \
     && _LCMAPS_DLSYM(l, lcmaps_gss_assist_gridmap, globus_gss_assist_gridmap_t, "globus_gss_assist_gridmap") \
     && LCMAPS_LOAD_FUNC(l, lcmaps_term))
#else
typedef void *_lcmaps_handle_gss_assist_gridmap_t;
#define _LCMAPS_DECL_HANDLE_GSS_ASSIST_GRIDMAP(l)
#define _LCMAPS_INIT_HANDLE_GSS_ASSIST_GRIDMAP(l) (l = NULL)
#define _LCMAPS_LOAD_GSS_ASSIST_GRIDMAP(l) (1)
#endif
typedef _lcmaps_handle_gss_assist_gridmap_t LCMAPS_HANDLE_GSS_ASSIST_GRIDMAP;
#define LCMAPS_DECL_HANDLE_GSS_ASSIST_GRIDMAP(l) _LCMAPS_DECL_HANDLE_GSS_ASSIST_GRIDMAP(l)
#define LCMAPS_INIT_HANDLE_GSS_ASSIST_GRIDMAP(l) _LCMAPS_INIT_HANDLE_GSS_ASSIST_GRIDMAP(l)
#define LCMAPS_LOAD_GSS_ASSIST_GRIDMAP(l) _LCMAPS_LOAD_GSS_ASSIST_GRIDMAP(l)
#define LCMAPS_CLOSE_HANDLE_GSS_ASSIST_GRIDMAP(l) LCMAPS_CLOSE_HANDLE(l)

#endif /* LCMAPS_GSS_ASSIST_GRIDMAP_H */
