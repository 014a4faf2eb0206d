/* lcas_types.h -- lcmaps-rs: LCAS 1.3 types
 * Source-compatible with the LCAS 1.3 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCAS_TYPES_H
#define LCAS_TYPES_H

/* The GSS credential member is always there (Debian's liblcas is built with
 * it); without Globus's gssapi.h, or with NOGLOBUS, it is a plain pointer
 * so the layout stays the library's. */
#if !defined(NOGLOBUS) && defined(__has_include)
#if __has_include(<gssapi.h>)
#include <gssapi.h>
#define LCAS_RS_HAVE_GSSAPI 1
#endif
#endif
#ifdef LCAS_RS_HAVE_GSSAPI
typedef gss_cred_id_t lcas_rs_gss_cred_t;
#else
typedef void *lcas_rs_gss_cred_t;
#endif

/* The authorization request: an RSL or JDL string. */
typedef char *lcas_request_t;

/* What a plugin is given (by value) in plugin_confirm_authorization. */
typedef struct lcas_cred_id_s {
    lcas_rs_gss_cred_t cred; /* the caller's GSS credential, NULL for PEM requests */
    char *dn;                /* the user's DN */
} lcas_cred_id_t;

#endif /* LCAS_TYPES_H */
