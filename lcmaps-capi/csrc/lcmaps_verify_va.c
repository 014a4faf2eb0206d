/*
 * The one C-variadic entry point of the LCMAPS caller API,
 * lcmaps_verify_account_from_pem_va, which stable Rust cannot define: it
 * takes its arguments and hands them to a Rust function. (The plugin helper
 * APIs' variadic loggers are in lcmaps-host/csrc.)
 */
#include <stdarg.h>
#include <string.h>
#include <sys/types.h>

/* lcmaps_account_info_t, generated from lcmaps-sys (the Rust definition
 * lcmaps-capi uses), so the shim cannot disagree with it. */
#include "lcmaps_sys.h"

/* The Rust entry point, installed by src/exports.rs (install_hooks) at load
 * time. A hook, not a symbol, so that nothing but the LCMAPS API is exported. */
typedef int (*lcmaps_rs_verify_fn)(int narg, char *pem_string,
                                   const lcmaps_account_info_t *acct);
lcmaps_rs_verify_fn lcmaps_rs_verify_hook = 0;

static int lcmaps_rs_verify_account_from_pem(int narg, char *pem_string,
                                             const lcmaps_account_info_t *acct)
{
    return lcmaps_rs_verify_hook ? lcmaps_rs_verify_hook(narg, pem_string, acct) : 1;
}

int lcmaps_verify_account_from_pem_va(int narg, ...)
{
    va_list ap;
    char *pem = NULL;
    lcmaps_account_info_t acct;

    memset(&acct, 0, sizeof acct);
    if (narg != 2)
        return lcmaps_rs_verify_account_from_pem(narg, NULL, NULL);
    va_start(ap, narg);
    pem = va_arg(ap, char *);
    acct = va_arg(ap, lcmaps_account_info_t);
    va_end(ap);
    return lcmaps_rs_verify_account_from_pem(narg, pem, &acct);
}

