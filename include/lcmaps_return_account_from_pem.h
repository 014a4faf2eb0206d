/* lcmaps_return_account_from_pem.h -- lcmaps-rs: liblcmaps_return_account_from_pem
 * Source-compatible with the LCMAPS 1.6 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCMAPS_RETURN_ACCOUNT_FROM_PEM_H
#define LCMAPS_RETURN_ACCOUNT_FROM_PEM_H

#include "lcmaps_account.h"
#include "lcmaps_basic.h"

typedef int lcmaps_return_account_from_pem_t(char *pem_string, int mapcounter,
                                             lcmaps_account_info_t *plcmaps_account);

#ifdef __cplusplus
extern "C" {
#endif

#ifndef LCMAPS_USE_DLOPEN
/* lcmaps-rs: PEM input is not supported yet; logs that and returns 1. */
lcmaps_return_account_from_pem_t lcmaps_return_account_from_pem;
#endif

#ifdef __cplusplus
}
#endif

#endif /* LCMAPS_RETURN_ACCOUNT_FROM_PEM_H */
