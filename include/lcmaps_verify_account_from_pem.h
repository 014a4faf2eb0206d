/* lcmaps_verify_account_from_pem.h -- lcmaps-rs: liblcmaps_verify_account_from_pem
 * Source-compatible with the LCMAPS 1.6 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCMAPS_VERIFY_ACCOUNT_FROM_PEM_H
#define LCMAPS_VERIFY_ACCOUNT_FROM_PEM_H

#include "lcmaps_account.h"
#include "lcmaps_basic.h"

typedef int lcmaps_verify_account_from_pem_t(char *pem_string,
                                             lcmaps_account_info_t lcmaps_account);

#ifdef __cplusplus
extern "C" {
#endif

#ifndef LCMAPS_USE_DLOPEN
lcmaps_verify_account_from_pem_t lcmaps_verify_account_from_pem;
/* narg must be 2: (char *pem_string, lcmaps_account_info_t account). */
extern int lcmaps_verify_account_from_pem_va(int narg, ...);
#endif

#ifdef __cplusplus
}
#endif

/* LCMAPS_USE_DLOPEN handle of this interface (see lcmaps_if.h). */
#ifdef LCMAPS_USE_DLOPEN
#define LCMAPS_LIB_VERIFY_ACCOUNT_FROM_PEM "liblcmaps_verify_account_from_pem" LIBSUFF
typedef struct _lcmaps_handle_verify_account_from_pem_s {
    _LCMAPS_HANDLE_COMMON_MEMBERS;
    lcmaps_init_t *lcmaps_init;
    lcmaps_account_info_init_t *lcmaps_account_info_init;
    lcmaps_verify_account_from_pem_t *lcmaps_verify_account_from_pem;
    lcmaps_term_t *lcmaps_term;
    lcmaps_account_info_clean_t *lcmaps_account_info_clean;
} _lcmaps_handle_verify_account_from_pem_t;
#define _LCMAPS_DECL_HANDLE_VERIFY_ACCOUNT_FROM_PEM(l) \
    _lcmaps_handle_verify_account_from_pem_t l = _LCMAPS_HANDLE_INITIALIZER(LCMAPS_LIB_VERIFY_ACCOUNT_FROM_PEM)
#define _LCMAPS_INIT_HANDLE_VERIFY_ACCOUNT_FROM_PEM(l) \
    _LCMAPS_INIT_HANDLE(l, _lcmaps_handle_verify_account_from_pem_t, LCMAPS_LIB_VERIFY_ACCOUNT_FROM_PEM)
#define _LCMAPS_LOAD_VERIFY_ACCOUNT_FROM_PEM(l) \
    (_LCMAPS_LOAD_INTERFACE_WITH_FIX(l) \
     && LCMAPS_LOAD_FUNC(l, lcmaps_init) \
     && LCMAPS_LOAD_FUNC(l, lcmaps_account_info_init) \
     && LCMAPS_LOAD_FUNC(l, lcmaps_verify_account_from_pem) \
     && LCMAPS_LOAD_FUNC(l, lcmaps_term) \
     && LCMAPS_LOAD_FUNC(l, lcmaps_account_info_clean))
#else
typedef void *_lcmaps_handle_verify_account_from_pem_t;
#define _LCMAPS_DECL_HANDLE_VERIFY_ACCOUNT_FROM_PEM(l)
#define _LCMAPS_INIT_HANDLE_VERIFY_ACCOUNT_FROM_PEM(l) (l = NULL)
#define _LCMAPS_LOAD_VERIFY_ACCOUNT_FROM_PEM(l) (1)
#endif
typedef _lcmaps_handle_verify_account_from_pem_t LCMAPS_HANDLE_VERIFY_ACCOUNT_FROM_PEM;
#define LCMAPS_DECL_HANDLE_VERIFY_ACCOUNT_FROM_PEM(l) _LCMAPS_DECL_HANDLE_VERIFY_ACCOUNT_FROM_PEM(l)
#define LCMAPS_INIT_HANDLE_VERIFY_ACCOUNT_FROM_PEM(l) _LCMAPS_INIT_HANDLE_VERIFY_ACCOUNT_FROM_PEM(l)
#define LCMAPS_LOAD_VERIFY_ACCOUNT_FROM_PEM(l) _LCMAPS_LOAD_VERIFY_ACCOUNT_FROM_PEM(l)
#define LCMAPS_CLOSE_HANDLE_VERIFY_ACCOUNT_FROM_PEM(l) LCMAPS_CLOSE_HANDLE(l)
/* LCMAPS 1.6 spells the handle type this way too. */
typedef LCMAPS_HANDLE_VERIFY_ACCOUNT_FROM_PEM LCMAPS_HANDLE_VERIFY_RETURN_ACCOUNT_FROM_PEM;

#endif /* LCMAPS_VERIFY_ACCOUNT_FROM_PEM_H */
