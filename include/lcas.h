/* lcas.h -- lcmaps-rs: the LCAS 1.3 caller API (liblcas.so.0 is
 * liblcmaps_rs.so). Source-compatible with the LCAS 1.3 header of the same
 * name as programs are built against Debian's liblcas (with
 * ALLOW_EMPTY_CREDENTIALS, as lcas-lcmaps-gt4-interface is): there is one
 * lcas_get_fabric_authorization, the three-argument form Debian's liblcas
 * 1.3.19 implements. LCAS's header declares a two-argument form without
 * ALLOW_EMPTY_CREDENTIALS that matches neither library; a program written
 * for it does not compile here. All return 0 on success / authorization.
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
/* As Debian's liblcas: the DN is the credential's (Globus GSI loaded at run
 * time) and user_dn is not used when there is a credential; a NULL
 * credential is refused, whatever the DN. */
extern int lcas_get_fabric_authorization(char *user_dn, lcas_rs_gss_cred_t user_cred,
                                         lcas_request_t request);
/* 1, 3, 19. */
extern int getMajorVersionNumber(void);
extern int getMinorVersionNumber(void);
extern int getPatchVersionNumber(void);

#ifdef __cplusplus
}
#endif

#endif /* LCAS_H */
