/* lcas_log.h -- lcmaps-rs: logging for LCAS plugins
 * Source-compatible with the LCAS 1.3 header of the same name. Messages go
 * to the log the caller opened with lcas_init* (shared with LCMAPS in one
 * process). SPDX-License-Identifier: Apache-2.0 */
#ifndef LCAS_LOG_H
#define LCAS_LOG_H

#include <syslog.h>

#ifdef __GNUC__
#define LCAS_RS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define LCAS_RS_PRINTF(f, a)
#endif

#ifdef __cplusplus
extern "C" {
#endif

extern int lcas_log(int prty, char *fmt, ...) LCAS_RS_PRINTF(2, 3);
extern int lcas_log_debug(int debug_lvl, char *fmt, ...) LCAS_RS_PRINTF(2, 3);
extern int lcas_log_time(int prty, char *fmt, ...) LCAS_RS_PRINTF(2, 3);
extern int lcas_log_a_string(int prty, char *fmt, char *the_string);
extern int lcas_log_a_string_debug(int debug_lvl, char *fmt, char *the_string);
extern int lcas_get_debug_level(void);

#ifdef __cplusplus
}
#endif

#endif /* LCAS_LOG_H */
