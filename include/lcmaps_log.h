/* lcmaps_log.h -- lcmaps-rs: logging for plugins
 * Source-compatible with the LCMAPS 1.6 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCMAPS_LOG_H
#define LCMAPS_LOG_H

#include <syslog.h>

#ifndef DO_USRLOG
#define DO_USRLOG ((unsigned short)0x0001)
#endif
#ifndef DO_SYSLOG
#define DO_SYSLOG ((unsigned short)0x0002)
#endif

#ifdef __GNUC__
#define LCMAPS_RS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define LCMAPS_RS_DEPRECATED __attribute__((deprecated))
#else
#define LCMAPS_RS_PRINTF(f, a)
#define LCMAPS_RS_DEPRECATED
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* prty is a syslog priority; 0 logged, 1 dropped by the level. */
extern int lcmaps_log(int prty, const char *fmt, ...) LCMAPS_RS_PRINTF(2, 3);
/* Logged at LOG_DEBUG; debug_lvl is ignored. */
extern int lcmaps_log_debug(int debug_lvl, const char *fmt, ...) LCMAPS_RS_PRINTF(2, 3);
extern int lcmaps_log_time(int prty, const char *fmt, ...) LCMAPS_RS_PRINTF(2, 3);
extern int lcmaps_log_a_string(int prty, const char *fmt, const char *the_string)
    LCMAPS_RS_DEPRECATED LCMAPS_RS_PRINTF(2, 0);
extern int lcmaps_log_a_string_debug(int debug_lvl, const char *fmt, const char *the_string)
    LCMAPS_RS_DEPRECATED LCMAPS_RS_PRINTF(2, 0);

#ifdef __cplusplus
}
#endif

#endif /* LCMAPS_LOG_H */
