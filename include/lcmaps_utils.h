/* lcmaps_utils.h -- lcmaps-rs: utilities for plugins
 * Source-compatible with the LCMAPS 1.6 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCMAPS_UTILS_H
#define LCMAPS_UTILS_H

#include <grp.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* malloc'ed prefix/path/suffix; an absolute path ignores the prefix. */
extern char *lcmaps_genfilename(const char *prefix, const char *path, const char *suffix);
/* The user's groups, primary included; *group_list malloc'ed.
 * 0 ok, 1 unknown user, -1 allocation failure. */
extern int lcmaps_get_gidlist(const char *username, int *ngroups, gid_t **group_list);
/* Split command at sep ("..." keeps separators); *n: capacity in, count out.
 * 0 ok, -1 malloc, -2 too many, -3 unmatched quote, -4 NULL argument. */
extern int lcmaps_tokenize(const char *command, char **args, int *n, const char *sep);
extern int lcmaps_get_major_version(void);
extern int lcmaps_get_minor_version(void);
extern int lcmaps_get_patch_version(void);

#ifdef __cplusplus
}
#endif

#endif /* LCMAPS_UTILS_H */
