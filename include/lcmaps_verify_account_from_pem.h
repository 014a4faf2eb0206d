/* lcmaps_verify_account_from_pem.h -- lcmaps-rs: liblcmaps_verify_account_from_pem
 * Source-compatible with the LCMAPS 1.6 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCMAPS_VERIFY_ACCOUNT_FROM_PEM_H
#define LCMAPS_VERIFY_ACCOUNT_FROM_PEM_H

#include "lcmaps_account.h"
#include "lcmaps_basic.h"

typedef int lcmaps_verify_account_from_pem_t(char *pem_string,
                                             lcmaps_account_info_t lcmaps_account);

#ifdef __cplusplus
extern "C" {
#endif

#ifndef LCMAPS_USE_DLOPEN
/* lcmaps-rs: PEM input is not supported yet; these log that and return 1. */
lcmaps_verify_account_from_pem_t lcmaps_verify_account_from_pem;
/* narg must be 2: (char *pem_string, lcmaps_account_info_t account). */
extern int lcmaps_verify_account_from_pem_va(int narg, ...);
#endif

#ifdef __cplusplus
}
#endif

#endif /* LCMAPS_VERIFY_ACCOUNT_FROM_PEM_H */
