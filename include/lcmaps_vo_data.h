/* lcmaps_vo_data.h -- lcmaps-rs: VO data and VO mapping helpers
 * Source-compatible with the LCMAPS 1.6 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCMAPS_VO_DATA_H
#define LCMAPS_VO_DATA_H

#include <grp.h>
#include <sys/types.h>

#define LCMAPS_NO_GID (gid_t)(-1)

typedef struct lcmaps_vo_data_s {
    char *vo;
    char *group;
    char *subgroup;
    char *role;
    char *capability;
} lcmaps_vo_data_t;

typedef struct lcmaps_vo_mapping_s {
    char *vostring;
    char *groupname;
    gid_t gid;
} lcmaps_vo_mapping_t;

#ifdef __cplusplus
extern "C" {
#endif

/* malloc'ed; free with lcmaps_deleteVoData. */
extern lcmaps_vo_data_t *lcmaps_createVoData(const char *vo, const char *group,
                                             const char *subgroup, const char *role,
                                             const char *capability);
extern int lcmaps_deleteVoData(lcmaps_vo_data_t **vo_data);
extern int lcmaps_cleanVoData(lcmaps_vo_data_t *vo_data);
extern int lcmaps_copyVoData(lcmaps_vo_data_t *dst_vo_data, const lcmaps_vo_data_t *src_vo_data);
extern int lcmaps_printVoData(int debug_level, const lcmaps_vo_data_t *vo_data);
/* "/VO=../GROUP=..[/ROLE=..][/CAPABILITY=..]"; 0 ok, -1 error. */
extern int lcmaps_stringVoData(const lcmaps_vo_data_t *vo_data, char *buffer, int nchars);

extern lcmaps_vo_mapping_t *lcmaps_createVoMapping(const char *vo_data_string,
                                                   const char *groupname, const gid_t gid);
extern int lcmaps_deleteVoMapping(lcmaps_vo_mapping_t **vo_mapping);
extern int lcmaps_cleanVoMapping(lcmaps_vo_mapping_t *vo_mapping);
extern int lcmaps_copyVoMapping(lcmaps_vo_mapping_t *dst_vo_mapping,
                                const lcmaps_vo_mapping_t *src_vo_mapping);
extern int lcmaps_printVoMapping(int debug_level, const lcmaps_vo_mapping_t *vo_mapping);

#ifdef __cplusplus
}
#endif

#endif /* LCMAPS_VO_DATA_H */
