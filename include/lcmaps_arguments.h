/* lcmaps_arguments.h -- lcmaps-rs: run-variable arguments of plugins
 * Source-compatible with the LCMAPS 1.6 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCMAPS_ARGUMENTS_H
#define LCMAPS_ARGUMENTS_H

/* One run variable a plugin asks for; arrays end with argName == NULL.
 * value points to the framework's variable (e.g. char ** for "char *"). */
typedef struct lcmaps_argument_s {
    const char *argName;
    const char *argType;
    int argInOut;
    void *value;
} lcmaps_argument_t;

#ifdef __cplusplus
extern "C" {
#endif

/* 0 ok, -1 (name, type) not found. */
extern int lcmaps_setArgValue(const char *argName, const char *argType, void *value,
                              int argcx, lcmaps_argument_t **argvx);
/* The bound value pointer, or NULL. */
extern void *lcmaps_getArgValue(const char *argName, const char *argType, int argcx,
                                lcmaps_argument_t *argvx);
/* Index or -1. */
extern int lcmaps_findArgName(const char *argName, int argcx, lcmaps_argument_t *argvx);
extern int lcmaps_findArgNameAndType(const char *argName, const char *argType, int argcx,
                                     lcmaps_argument_t *argvx);
/* Entries before the NULL-named terminator. */
extern int lcmaps_cntArgs(lcmaps_argument_t *argvx);

#ifdef __cplusplus
}
#endif

#endif /* LCMAPS_ARGUMENTS_H */
