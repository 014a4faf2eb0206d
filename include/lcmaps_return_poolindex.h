/* lcmaps_return_poolindex.h -- lcmaps-rs: liblcmaps_return_poolindex
 * Source-compatible with the LCMAPS 1.6 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCMAPS_RETURN_POOLINDEX_H
#define LCMAPS_RETURN_POOLINDEX_H

#include "lcmaps_globus.h"

typedef int lcmaps_return_poolindex_t(gss_ctx_id_t context_handle, char *poolindex_buffer,
                                      unsigned int buffer_length);
typedef int lcmaps_return_poolindex_from_gss_cred_t(gss_cred_id_t credential_handle,
                                                    char *poolindex_buffer,
                                                    unsigned int buffer_length);

#ifdef __cplusplus
extern "C" {
#endif

#ifndef LCMAPS_USE_DLOPEN
/* lcmaps-rs: GSS input is not supported yet; these log that and return 1. */
lcmaps_return_poolindex_t lcmaps_return_poolindex;
lcmaps_return_poolindex_from_gss_cred_t lcmaps_return_poolindex_from_gss_cred;
#endif

#ifdef __cplusplus
}
#endif

#endif /* LCMAPS_RETURN_POOLINDEX_H */
