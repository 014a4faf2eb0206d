/* lcas.h -- lcmaps-rs: the LCAS 1.3 caller API (liblcas.so.0 is
 * liblcmaps_rs.so). Source-compatible with the LCAS 1.3 header of the same
 * name, in the two-argument lcas_get_fabric_authorization form Debian's
 * liblcas is built with. All return 0 on success / authorization.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCAS_H
#define LCAS_H

#include <stdio.h>
#include "lcas_types.h"

#ifdef __cplusplus
extern "C" {
#endif

extern int lcas_init(FILE *fp);
extern int lcas_init_and_log(FILE *fp, unsigned short logtype);
extern int lcas_init_and_logfile(char *logfile, FILE *fp, unsigned short logtype);
extern int lcas_term(void);
/* The DN is taken from the GSS credential (Globus GSI loaded at run time). */
extern int lcas_get_fabric_authorization(lcas_rs_gss_cred_t user_cred, lcas_request_t request);
/* 1, 3, 19. */
extern int getMajorVersionNumber(void);
extern int getMinorVersionNumber(void);
extern int getPatchVersionNumber(void);

#ifdef __cplusplus
}
#endif

#endif /* LCAS_H */
