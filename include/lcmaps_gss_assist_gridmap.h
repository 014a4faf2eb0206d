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

#endif /* LCMAPS_GSS_ASSIST_GRIDMAP_H */
