/* lcmaps_globus.h -- lcmaps-rs: the caller API with Globus GSS types
 * Source-compatible with the LCMAPS 1.6 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCMAPS_GLOBUS_H
#define LCMAPS_GLOBUS_H

#include <gssapi.h>
#include "lcmaps_basic.h"

typedef int lcmaps_run_t(char *user_dn, gss_cred_id_t user_cred, lcmaps_request_t request);
typedef int lcmaps_run_and_return_username_t(char *user_dn, gss_cred_id_t user_cred,
                                             lcmaps_request_t request, char **usernamep,
                                             int npols, char **policynames);
typedef int lcmaps_run_and_return_poolindex_t(char *user_dn, gss_cred_id_t user_cred,
                                              lcmaps_request_t request, char **poolindexp,
                                              int npols, char **policynames);

#ifdef __cplusplus
extern "C" {
#endif

#ifndef LCMAPS_USE_DLOPEN
/* lcmaps-rs: GSS credentials are not supported yet; these log that and return 1. */
lcmaps_run_t lcmaps_run;
lcmaps_run_and_return_username_t lcmaps_run_and_return_username;
lcmaps_run_and_return_poolindex_t lcmaps_run_and_return_poolindex;
#endif

#ifdef __cplusplus
}
#endif

#endif /* LCMAPS_GLOBUS_H */
