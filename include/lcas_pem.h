/* lcas_pem.h -- lcmaps-rs: LCAS authorization of a PEM chain
 * Source-compatible with the LCAS 1.3 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCAS_PEM_H
#define LCAS_PEM_H

#include "lcas_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Authorize the DN of the chain's end-entity certificate. 0 authorized. */
extern int lcas_pem(char *pem_string, lcas_request_t request);

#ifdef __cplusplus
}
#endif

#endif /* LCAS_PEM_H */
