/* lcmaps_openssl.h -- lcmaps-rs: the caller API with OpenSSL types
 * Source-compatible with the LCMAPS 1.6 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCMAPS_X509_H
#define LCMAPS_X509_H

#include <sys/types.h>
#include <openssl/x509.h>
#include "lcmaps_basic.h"

typedef int lcmaps_run_with_stack_of_x509_and_return_account_t(
    STACK_OF(X509) *cert_chain, int mapcounter, lcmaps_request_t request, int npols,
    char **policynames, uid_t *puid, gid_t **ppgid_list, int *pnpgid, gid_t **psgid_list,
    int *pnsgid, char **poolindexp);

#ifdef __cplusplus
extern "C" {
#endif

#ifndef LCMAPS_USE_DLOPEN
/* Maps the chain as lcmaps_run_with_pem_and_return_account maps its PEM
 * (DN of the end-entity certificate, FQANs of its verified VOMS attributes).
 * The stack stays the caller's; the gid lists point into LCMAPS's store,
 * *poolindexp is malloc'ed (free it). 0 on success, 1 on failure. */
lcmaps_run_with_stack_of_x509_and_return_account_t lcmaps_run_with_stack_of_x509_and_return_account;
#endif

#ifdef __cplusplus
}
#endif

#endif /* LCMAPS_X509_H */
