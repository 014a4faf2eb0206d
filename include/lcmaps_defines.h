/* lcmaps_defines.h -- lcmaps-rs: plugin return codes and limits
 * Source-compatible with the LCMAPS 1.6 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCMAPS_DEFINES_H
#define LCMAPS_DEFINES_H

/* Plugin return codes; the framework treats anything but 0 as failure. */
#define LCMAPS_MOD_SUCCESS ((int)0)
#define LCMAPS_MOD_FAIL    ((int)1)
#define LCMAPS_MOD_NOFILE  ((int)2)
#define LCMAPS_MOD_ENTRY   ((int)3)
#define LCMAPS_MOD_NOENTRY ((int)4)

#define LCMAPS_MAXPATHLEN   ((size_t)500)
#define LCMAPS_MAXARGSTRING ((size_t)2000)
#define LCMAPS_MAXARGS      51

#endif /* LCMAPS_DEFINES_H */
