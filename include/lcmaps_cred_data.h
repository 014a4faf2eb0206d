/* lcmaps_cred_data.h -- lcmaps-rs: the credential data store of a mapping
 * Source-compatible with the LCMAPS 1.6 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCMAPS_CRED_DATA_H
#define LCMAPS_CRED_DATA_H

#define DN                       5
#define UID                     10
#define PRI_GID                 20
#define SEC_GID                 30
#define LCMAPS_VO_CRED          90
#define LCMAPS_VO_CRED_STRING  100
#define LCMAPS_VO_CRED_MAPPING 110
#define POOL_INDEX             200

#include <pwd.h>
#include <sys/types.h>
#include <stdio.h>
#include "lcmaps_vo_data.h"

/* Layout of LCMAPS's store (plugins never see one). */
typedef struct cred_data_s {
    char *dn;
    uid_t *uid;
    gid_t *priGid;
    gid_t *secGid;
    lcmaps_vo_data_t *VoCred;
    char **VoCredString;
    lcmaps_vo_mapping_t *VoCredMapping;
    int cntUid;
    int cntPriGid;
    int cntSecGid;
    int cntVoCred;
    int cntVoCredString;
    int cntVoCredMapping;
    char *pool_index;
} cred_data_t;

#ifdef __cplusplus
extern "C" {
#endif

/* Add data (DN, POOL_INDEX, LCMAPS_VO_CRED_STRING: pass a char **). 0 ok, -1 error. */
extern int addCredentialData(int datatype, void *data);
/* Pointer into the store (do not free), valid until the store is reset. */
extern void *getCredentialData(int datatype, int *count);
extern int lcmaps_cleanCredentialData(void);
extern int lcmaps_resetCredentialData(void);
extern void lcmaps_printCredData(int debug_level);

#ifdef __cplusplus
}
#endif

#endif /* LCMAPS_CRED_DATA_H */
