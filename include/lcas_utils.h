/* lcas_utils.h -- lcmaps-rs: helpers for LCAS plugins
 * Source-compatible with the LCAS 1.3 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCAS_UTILS_H
#define LCAS_UTILS_H

#include "lcas_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The GSS credential and the DN of the credential a plugin was given. */
extern lcas_rs_gss_cred_t lcas_get_gss_cred(lcas_cred_id_t lcas_credential);
extern char *lcas_get_dn(lcas_cred_id_t lcas_credential);
/* prefix/path + suffix (an absolute path ignores the prefix); free it. */
extern char *lcas_genfilename(char *prefixp, char *pathp, char *suffixp);
/* The first of n paths that exists (one of the arguments), or NULL. */
extern char *lcas_getfexist(int n, ...);
/* A file in the lcas.db directory / a plugin in LCAS_MODULES_DIR or
 * /usr/lib/lcas; malloc'ed (free it) or NULL. */
extern char *lcas_finddbfile(char *name);
extern char *lcas_findfile(char *name);
extern char *lcas_findplugin(char *name);
/* Split command at the characters of sep (quotes group): as lcmaps_tokenize. */
extern int lcas_tokenize(const char *command, char **args, int *n, const char *sep);

#ifdef __cplusplus
}
#endif

#endif /* LCAS_UTILS_H */
