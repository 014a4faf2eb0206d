/*
 * The C-variadic entry points of the plugin helper APIs (lcmaps_log & co.,
 * lcas_log & co., lcas_getfexist), which stable Rust cannot define. Each
 * formats its arguments and hands the result to a Rust function; nothing
 * else happens here. (lcmaps-capi/csrc has the caller API's one.)
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

/* lcmaps_account_info_t & co., generated from lcmaps-sys (the Rust
 * definitions lcmaps-capi uses), so the shim cannot disagree with them. */
#include "lcmaps_sys.h"

/* LCMAPS formats a message into this many bytes (lcmaps_log.c). */
#define LCMAPS_RS_MAX_MESSAGE 2048

/* Rust entry points, installed by src/lib.rs (install_hooks) at load
 * time. Hooks, not symbols, so that nothing but the LCMAPS API is exported. */
typedef int (*lcmaps_rs_log_fn)(int prty, int debug, const char *msg);
lcmaps_rs_log_fn lcmaps_rs_log_hook = 0;

static int lcmaps_rs_log_message(int prty, int debug, const char *msg)
{
    return lcmaps_rs_log_hook ? lcmaps_rs_log_hook(prty, debug, msg) : 1;
}

static int lcmaps_rs_vlog(int prty, int debug, const char *fmt, va_list ap)
{
    char buf[LCMAPS_RS_MAX_MESSAGE];
    int n;

    if (fmt == NULL)
        return lcmaps_rs_log_message(prty, debug, NULL);
    n = vsnprintf(buf, sizeof buf, fmt, ap);
    if (n < 0)
        return 1;
    if ((size_t)n >= sizeof buf)
        memcpy(buf + sizeof buf - 5, "...\n", 5); /* truncated, as LCMAPS marks it */
    return lcmaps_rs_log_message(prty, debug, buf);
}

/* A variadic logger `int name(int lvl, fmt_type fmt, ...)`: formats the
 * message and hands it to Rust at priority `prio` (an expression that may
 * use `lvl`), as a debug message when `debug`. */
#define LCMAPS_RS_VLOGGER(name, fmt_type, prio, debug)   \
    int name(int lvl, fmt_type fmt, ...)                 \
    {                                                    \
        va_list ap;                                      \
        int rc;                                          \
        (void)lvl;                                       \
        va_start(ap, fmt);                               \
        rc = lcmaps_rs_vlog((prio), (debug), fmt, ap);   \
        va_end(ap);                                      \
        return rc;                                       \
    }

LCMAPS_RS_VLOGGER(lcmaps_log, const char *, lvl, 0)

LCMAPS_RS_VLOGGER(lcmaps_log_time, const char *, lvl, 0)

/* debug level: ignored by LCMAPS 1.6; for LCAS filtered by LCAS_DEBUG_LEVEL on the Rust side */
LCMAPS_RS_VLOGGER(lcmaps_log_debug, const char *, 7, 1)

static int lcmaps_rs_log_one(int prty, int debug, const char *fmt, const char *str)
{
    char buf[LCMAPS_RS_MAX_MESSAGE];
    int n;
    if (fmt == NULL)
        return lcmaps_rs_log_message(prty, debug, NULL);
    n = snprintf(buf, sizeof buf, fmt, str ? str : "(null)");
    if (n < 0)
        return 1;
    if ((size_t)n >= sizeof buf)
        memcpy(buf + sizeof buf - 5, "...\n", 5);
    return lcmaps_rs_log_message(prty, debug, buf);
}

int lcmaps_log_a_string(int prty, const char *fmt, const char *the_string)
{
    return lcmaps_rs_log_one(prty, 0, fmt, the_string);
}

int lcmaps_log_a_string_debug(int debug_lvl, const char *fmt, const char *the_string)
{
    (void)debug_lvl;
    return lcmaps_rs_log_one(7, 1, fmt, the_string);
}

/* ---- LCAS (liblcas.so.0 is the same library) ---- */

LCMAPS_RS_VLOGGER(lcas_log, char *, lvl, 0)

LCMAPS_RS_VLOGGER(lcas_log_time, char *, lvl, 0)

LCMAPS_RS_VLOGGER(lcas_log_debug, char *, 7, 1)

int lcas_log_a_string(int prty, char *fmt, char *the_string)
{
    return lcmaps_rs_log_one(prty, 0, fmt, the_string);
}

int lcas_log_a_string_debug(int debug_lvl, char *fmt, char *the_string)
{
    (void)debug_lvl;
    return lcmaps_rs_log_one(7, 1, fmt, the_string);
}

/* lcas_getfexist(n, path1, ..., pathn): the Rust side picks the first that
 * exists; at most 64 paths are looked at. */
typedef char *(*lcas_rs_getfexist_fn)(int n, char *const *names);
lcas_rs_getfexist_fn lcas_rs_getfexist_hook = 0;

char *lcas_getfexist(int n, ...)
{
    char *names[64];
    va_list ap;
    int i;
    if (n < 0)
        n = 0;
    if (n > 64)
        n = 64;
    va_start(ap, n);
    for (i = 0; i < n; i++)
        names[i] = va_arg(ap, char *);
    va_end(ap);
    return lcas_rs_getfexist_hook ? lcas_rs_getfexist_hook(n, names) : 0;
}
