/* lcmaps_types.h -- lcmaps-rs: types shared by plugins and callers
 * Source-compatible with the LCMAPS 1.6 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCMAPS_TYPES_H
#define LCMAPS_TYPES_H

#include <sys/types.h>
#include <pwd.h>

/* The job request (RSL/JDL), usually NULL. */
typedef char *lcmaps_request_t;

typedef struct lcmaps_fqan_unix_s {
    char *fqan;
    uid_t uid;
    gid_t gid;
} lcmaps_fqan_unix_t;

typedef struct lcmaps_voms_generic_attr_s {
    char *name;
    char *value;
    char *qualifier;
} lcmaps_voms_generic_attr_t;

typedef struct lcmaps_voms_s {
    char *user_dn;
    char *user_ca;
    char *voms_issuer_dn;
    char *voms_issuer_ca;
    char *uri;
    char *date1;
    char *date2;
    char *voname;
    lcmaps_fqan_unix_t *fqan_unix;
    int nfqan;
    lcmaps_voms_generic_attr_t *attr_list;
    int nattr;
} lcmaps_voms_t;

typedef struct lcmaps_vomsdata_s {
    lcmaps_voms_t *voms;
    int nvoms;
    char *workvo;
    char *extra_data;
} lcmaps_vomsdata_t;

#endif /* LCMAPS_TYPES_H */
