/* lcmaps_basic.h -- lcmaps-rs: the caller API without GSI types
 * Source-compatible with the LCMAPS 1.6 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCMAPS_BASIC_H
#define LCMAPS_BASIC_H

#include <stdio.h>
#include <time.h>
#include <sys/types.h>
#include "lcmaps_version.h"
#include "lcmaps_types.h"
#include "lcmaps_if.h"

typedef int lcmaps_init_t(FILE *fp);
typedef int lcmaps_init_and_log_t(FILE *fp, unsigned short logtype);
typedef int lcmaps_init_and_logfile_t(char *logfile, FILE *fp, unsigned short logtype);
typedef int lcmaps_term_t(void);
typedef int lcmaps_run_without_credentials_and_return_username_t(
    char *user_dn, lcmaps_request_t request, char **usernamep, int npols, char **policynames);
typedef int lcmaps_run_with_fqans_mapcounter_and_return_account_t(
    char *user_dn, char **fqan_list, int nfqan, int mapcounter, lcmaps_request_t request,
    int npols, char **policynames, uid_t *puid, gid_t **ppgid_list, int *pnpgid,
    gid_t **psgid_list, int *pnsgid, char **poolindexp);
typedef int lcmaps_run_with_fqans_and_return_account_t(
    char *user_dn, char **fqan_list, int nfqan, lcmaps_request_t request, int npols,
    char **policynames, uid_t *puid, gid_t **ppgid_list, int *pnpgid, gid_t **psgid_list,
    int *pnsgid, char **poolindexp);
typedef int lcmaps_run_with_pem_and_return_account_t(
    char *user_dn, char *pem_string, int mapcounter, lcmaps_request_t request, int npols,
    char **policynames, uid_t *puid, gid_t **ppgid_list, int *pnpgid, gid_t **psgid_list,
    int *pnsgid, char **poolindexp);
typedef int lcmaps_run_and_verify_account_from_pem_t(
    char *user_dn, char *pem_string, uid_t uid, gid_t *pgid_list, int npgid, gid_t *sgid_list,
    int nsgid, char *poolindex, lcmaps_request_t request, int npols, char **policynames);
typedef void lcmaps_disable_voms_attributes_verification_t(void);
typedef void lcmaps_enable_voms_attributes_verification_t(void);
typedef int lcmaps_is_set_to_verify_voms_attributes_t(void);
typedef void lcmaps_set_voms_attributes_verification_t(unsigned int flags);
typedef unsigned int lcmaps_get_voms_attributes_verification_t(void);
typedef void lcmaps_set_voms_verification_time_t(time_t verify_time, int flags);
typedef int lcmaps_get_voms_verification_time_t(time_t *verify_time, int *flags);

#ifdef __cplusplus
extern "C" {
#endif

#ifndef LCMAPS_USE_DLOPEN
/* 0 ok (also when already initialized), 1 failure. */
lcmaps_init_and_logfile_t lcmaps_init_and_logfile;
lcmaps_init_t lcmaps_init;
lcmaps_init_and_log_t lcmaps_init_and_log;
lcmaps_term_t lcmaps_term;
/* *usernamep is malloc'ed (caller frees). */
lcmaps_run_without_credentials_and_return_username_t lcmaps_run_without_credentials_and_return_username;
/* *ppgid_list, *psgid_list, *poolindexp point into LCMAPS (valid until the next run). */
lcmaps_run_with_fqans_mapcounter_and_return_account_t lcmaps_run_with_fqans_mapcounter_and_return_account;
lcmaps_run_with_fqans_and_return_account_t lcmaps_run_with_fqans_and_return_account;
/* The DN comes from the PEM chain; *poolindexp is malloc'ed (the caller frees it). */
lcmaps_run_with_pem_and_return_account_t lcmaps_run_with_pem_and_return_account;
lcmaps_run_and_verify_account_from_pem_t lcmaps_run_and_verify_account_from_pem;
lcmaps_disable_voms_attributes_verification_t lcmaps_disable_voms_attributes_verification;
lcmaps_enable_voms_attributes_verification_t lcmaps_enable_voms_attributes_verification;
lcmaps_is_set_to_verify_voms_attributes_t lcmaps_is_set_to_verify_voms_attributes;
lcmaps_set_voms_attributes_verification_t lcmaps_set_voms_attributes_verification;
lcmaps_get_voms_attributes_verification_t lcmaps_get_voms_attributes_verification;
lcmaps_set_voms_verification_time_t lcmaps_set_voms_verification_time;
lcmaps_get_voms_verification_time_t lcmaps_get_voms_verification_time;
#endif

#ifdef __cplusplus
}
#endif

#endif /* LCMAPS_BASIC_H */
