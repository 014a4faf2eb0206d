/* lcmaps_version.h -- lcmaps-rs: version of the LCMAPS API implemented
 * Source-compatible with the LCMAPS 1.6 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef _LCMAPS_VERSION_H
#define _LCMAPS_VERSION_H

#define LCMAPS_API_MAJOR_VERSION 1
#define LCMAPS_API_MINOR_VERSION 6
#define LCMAPS_API_PATCH_VERSION 6

#endif /* _LCMAPS_VERSION_H */
