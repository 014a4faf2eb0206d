/* lcmaps_return_poolindex.h -- lcmaps-rs: liblcmaps_return_poolindex
 * Source-compatible with the LCMAPS 1.6 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCMAPS_RETURN_POOLINDEX_H
#define LCMAPS_RETURN_POOLINDEX_H

#include "lcmaps_globus.h"

typedef int lcmaps_return_poolindex_t(gss_ctx_id_t context_handle, char *poolindex_buffer,
                                      unsigned int buffer_length);
typedef int lcmaps_return_poolindex_from_gss_cred_t(gss_cred_id_t credential_handle,
                                                    char *poolindex_buffer,
                                                    unsigned int buffer_length);

#ifdef __cplusplus
extern "C" {
#endif

#ifndef LCMAPS_USE_DLOPEN
/* lcmaps-rs: GSS input is not supported yet; these log that and return 1. */
lcmaps_return_poolindex_t lcmaps_return_poolindex;
lcmaps_return_poolindex_from_gss_cred_t lcmaps_return_poolindex_from_gss_cred;
#endif

#ifdef __cplusplus
}
#endif

/* LCMAPS_USE_DLOPEN handle of this interface (see lcmaps_if.h). */
#ifdef LCMAPS_USE_DLOPEN
#define LCMAPS_LIB_RETURN_POOLINDEX "liblcmaps_return_poolindex" LIBSUFF
typedef struct _lcmaps_handle_return_poolindex_s {
    _LCMAPS_HANDLE_COMMON_MEMBERS;
    lcmaps_init_t *lcmaps_init;
    lcmaps_return_poolindex_t *lcmaps_return_poolindex;
    lcmaps_return_poolindex_from_gss_cred_t *lcmaps_return_poolindex_from_gss_cred;
    lcmaps_term_t *lcmaps_term;
} _lcmaps_handle_return_poolindex_t;
#define _LCMAPS_DECL_HANDLE_RETURN_POOLINDEX(l) \
    _lcmaps_handle_return_poolindex_t l = _LCMAPS_HANDLE_INITIALIZER(LCMAPS_LIB_RETURN_POOLINDEX)
#define _LCMAPS_INIT_HANDLE_RETURN_POOLINDEX(l) \
    _LCMAPS_INIT_HANDLE(l, _lcmaps_handle_return_poolindex_t, LCMAPS_LIB_RETURN_POOLINDEX)
#define _LCMAPS_LOAD_RETURN_POOLINDEX(l) \
    (_LCMAPS_LOAD_INTERFACE_WITH_FIX(l) \
     && LCMAPS_LOAD_FUNC(l, lcmaps_init) \
     && LCMAPS_LOAD_FUNC(l, lcmaps_return_poolindex) \
     && LCMAPS_LOAD_FUNC(l, lcmaps_return_poolindex_from_gss_cred) \
     && LCMAPS_LOAD_FUNC(l, lcmaps_term))
#else
typedef void *_lcmaps_handle_return_poolindex_t;
#define _LCMAPS_DECL_HANDLE_RETURN_POOLINDEX(l)
#define _LCMAPS_INIT_HANDLE_RETURN_POOLINDEX(l) (l = NULL)
#define _LCMAPS_LOAD_RETURN_POOLINDEX(l) (1)
#endif
typedef _lcmaps_handle_return_poolindex_t LCMAPS_HANDLE_RETURN_POOLINDEX;
#define LCMAPS_DECL_HANDLE_RETURN_POOLINDEX(l) _LCMAPS_DECL_HANDLE_RETURN_POOLINDEX(l)
#define LCMAPS_INIT_HANDLE_RETURN_POOLINDEX(l) _LCMAPS_INIT_HANDLE_RETURN_POOLINDEX(l)
#define LCMAPS_LOAD_RETURN_POOLINDEX(l) _LCMAPS_LOAD_RETURN_POOLINDEX(l)
#define LCMAPS_CLOSE_HANDLE_RETURN_POOLINDEX(l) LCMAPS_CLOSE_HANDLE(l)

#endif /* LCMAPS_RETURN_POOLINDEX_H */
