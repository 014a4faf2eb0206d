/* _lcmaps.h -- lcmaps-rs: the machinery behind the handle macros of
 * lcmaps_if.h. Source-compatible with LCMAPS 1.6: with LCMAPS_USE_DLOPEN the
 * interface library is dlopen()ed (RTLD_NOW | RTLD_GLOBAL) and its functions
 * dlsym()ed into a handle; without it the macros call the linked functions.
 * lcmaps-rs always has the version functions, so the "helper library"
 * (libvomsfix/liblcas) fallback of old LCMAPS is never needed; the helper
 * name is kept for source compatibility only.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef _LCMAPS_H
#define _LCMAPS_H

typedef int getMajorVersion_t(void);
typedef int lcmaps_get_major_version_t(void);
typedef int lcmaps_get_minor_version_t(void);
typedef int lcmaps_get_patch_version_t(void);

#ifndef LCMAPS_USE_DLOPEN

#ifdef __cplusplus
extern "C" {
#endif
lcmaps_get_major_version_t lcmaps_get_major_version;
lcmaps_get_minor_version_t lcmaps_get_minor_version;
lcmaps_get_patch_version_t lcmaps_get_patch_version;
#ifdef __cplusplus
}
#endif

#define _LCMAPS_MAJOR_VERSION(l) (lcmaps_get_major_version())
#define _LCMAPS_MINOR_VERSION(l) (lcmaps_get_minor_version())
#define _LCMAPS_PATCH_VERSION(l) (lcmaps_get_patch_version())
#define _LCMAPS_SET_LIBFILE_PATH(l, p) (1)
#define _LCMAPS_SET_HELPER_PATH(l, p) (1)
#define LCMAPS_LOAD_FUNC(l, f) (1)
#define _LCMAPS_REQUIRE_FUNC(l, f) (1)
#define _LCMAPS_CALL(l, f) (f)
#define _LCMAPS_ERRMSG(l) "no LCMAPS handle: LCMAPS_USE_DLOPEN is not defined"
#define LCMAPS_CLOSE_HANDLE(l) (1)

#else /* LCMAPS_USE_DLOPEN */

#include <dlfcn.h>
#include <stddef.h>

/* Suffix of the interface library names, e.g. ".so.0". */
#ifndef LIBSUFF
#define LIBSUFF ".so.0"
#endif
#ifdef LCMAPS_UGLY_VERSION_BUG_HACK
#define LCMAPS_FIXVOMSHACKSO "liblcas" LIBSUFF
#else
#define LCMAPS_FIXVOMSHACKSO "libvomsfix" LIBSUFF
#endif

#define LCMAPS_HANDLE_VERSION_MEMBERS                          \
    getMajorVersion_t *getMajorVersion;                        \
    lcmaps_get_major_version_t *lcmaps_get_major_version;      \
    lcmaps_get_minor_version_t *lcmaps_get_minor_version;      \
    lcmaps_get_patch_version_t *lcmaps_get_patch_version;      \
    int majorversion, minorversion, patchversion

/* Members every handle has (lcmaps_basic.h provides the VOMS typedefs). */
#define _LCMAPS_HANDLE_COMMON_MEMBERS                                                  \
    const char *libfilename;                                                           \
    const char *helpername;                                                            \
    void *handle, *helper;                                                             \
    char *errmsg;                                                                      \
    LCMAPS_HANDLE_VERSION_MEMBERS;                                                     \
    lcmaps_disable_voms_attributes_verification_t *lcmaps_disable_voms_attributes_verification; \
    lcmaps_enable_voms_attributes_verification_t *lcmaps_enable_voms_attributes_verification; \
    lcmaps_is_set_to_verify_voms_attributes_t *lcmaps_is_set_to_verify_voms_attributes; \
    lcmaps_set_voms_attributes_verification_t *lcmaps_set_voms_attributes_verification; \
    lcmaps_get_voms_attributes_verification_t *lcmaps_get_voms_attributes_verification; \
    lcmaps_set_voms_verification_time_t *lcmaps_set_voms_verification_time;            \
    lcmaps_get_voms_verification_time_t *lcmaps_get_voms_verification_time

#define _LCMAPS_HANDLE_INITIALIZER(lib)                                                \
    {                                                                                  \
        .libfilename = (lib), .helpername = LCMAPS_FIXVOMSHACKSO, .majorversion = -1, \
        .minorversion = -1, .patchversion = -1                                         \
    }
#define _LCMAPS_INIT_HANDLE(l, type, lib) (*(l) = (type)_LCMAPS_HANDLE_INITIALIZER(lib), 1)

#define _LCMAPS_MAJOR_VERSION(l) ((l)->majorversion)
#define _LCMAPS_MINOR_VERSION(l) ((l)->minorversion)
#define _LCMAPS_PATCH_VERSION(l) ((l)->patchversion)
#define _LCMAPS_SET_LIBFILE_PATH(l, p) ((l)->libfilename = (p))
#define _LCMAPS_SET_HELPER_PATH(l, p) ((l)->helpername = (p))
#define _LCMAPS_CALL(l, f) ((l)->f)
#define _LCMAPS_ERRMSG(l) ((l)->errmsg)

/* dlsym symbol `sym` into member `m` of type `t *`; 1 ok, 0 with errmsg set. */
#define _LCMAPS_DLSYM(l, m, t, sym) \
    (dlerror(), (l)->m = (t *)dlsym((l)->handle, (sym)), ((l)->errmsg = dlerror()) == NULL)
#define LCMAPS_LOAD_FUNC(l, f) _LCMAPS_DLSYM(l, f, f##_t, #f)
#define _LCMAPS_REQUIRE_FUNC(l, f) LCMAPS_LOAD_FUNC(l, f)

#define _LCMAPS_GET_VERSION(l, v) \
    ((l)->v##version = LCMAPS_LOAD_FUNC(l, lcmaps_get_##v##_version) ? (l)->lcmaps_get_##v##_version() : 0)
#define _LCMAPS_LOAD_INTERFACE_WITH_FIX(l)                                              \
    (((l)->handle = dlopen((l)->libfilename, RTLD_NOW | RTLD_GLOBAL)) != NULL            \
         ? (_LCMAPS_GET_VERSION(l, major), _LCMAPS_GET_VERSION(l, minor),               \
            _LCMAPS_GET_VERSION(l, patch), (l)->errmsg = NULL, 1)                        \
         : ((l)->errmsg = dlerror(), 0))

#define LCMAPS_CLOSE_HANDLE(l)                                                          \
    (dlerror(), ((l)->handle ? dlclose((l)->handle) : 0),                               \
     ((l)->helper ? dlclose((l)->helper) : 0), (l)->handle = (l)->helper = NULL,         \
     ((l)->errmsg = dlerror()) == NULL)

#endif /* LCMAPS_USE_DLOPEN */

#endif /* _LCMAPS_H */
