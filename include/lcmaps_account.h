/* lcmaps_account.h -- lcmaps-rs: account information of a mapping
 * Source-compatible with the LCMAPS 1.6 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCMAPS_ACCOUNT_H
#define LCMAPS_ACCOUNT_H

#include <stdlib.h>
#include <sys/types.h>
#include <pwd.h>

typedef struct lcmaps_account_info_s {
    uid_t uid;
    gid_t *pgid_list;
    int npgid;
    gid_t *sgid_list;
    int nsgid;
    char *poolindex;
} lcmaps_account_info_t;

typedef int lcmaps_account_info_init_t(lcmaps_account_info_t *plcmaps_account);
typedef int lcmaps_account_info_fill_t(uid_t *puid, gid_t **ppgid_list, int *pnpgid,
                                       gid_t **psgid_list, int *pnsgid, char **ppoolindex,
                                       lcmaps_account_info_t *plcmaps_account);
typedef int lcmaps_account_info_clean_t(lcmaps_account_info_t *plcmaps_account);

#ifdef __cplusplus
extern "C" {
#endif

#ifndef LCMAPS_USE_DLOPEN
lcmaps_account_info_init_t lcmaps_account_info_init;
lcmaps_account_info_fill_t lcmaps_account_info_fill;
lcmaps_account_info_clean_t lcmaps_account_info_clean;
#endif

#ifdef __cplusplus
}
#endif

#endif /* LCMAPS_ACCOUNT_H */
