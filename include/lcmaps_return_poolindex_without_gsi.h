/* lcmaps_return_poolindex_without_gsi.h -- lcmaps-rs: account mapping without GSI
 * Source-compatible with the LCMAPS 1.6 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCMAPS_RETURN_POOLINDEX_WITHOUT_GSI_H
#define LCMAPS_RETURN_POOLINDEX_WITHOUT_GSI_H

#include "lcmaps_account.h"

#ifdef __cplusplus
extern "C" {
#endif

/* init, map DN+FQANs (policies from LCMAPS_POLICY_NAME), copy the account, term.
 * 0 ok, 1 failure (also when no pool index was found, for the first two). */
int lcmaps_return_poolindex_without_gsi(char *user_dn, char **fqan_list, int nfqan,
                                        lcmaps_account_info_t *plcmaps_account);
int lcmaps_return_poolindex_with_mapcounter(char *user_dn, char **fqan_list, int nfqan,
                                            int mapcounter,
                                            lcmaps_account_info_t *plcmaps_account);
int lcmaps_return_account_without_gsi(char *user_dn, char **fqan_list, int nfqan,
                                      int mapcounter, lcmaps_account_info_t *plcmaps_account);

#ifdef __cplusplus
}
#endif

#endif /* LCMAPS_RETURN_POOLINDEX_WITHOUT_GSI_H */
