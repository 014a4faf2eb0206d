/* lcmaps_modules.h -- lcmaps-rs: what plugins include
 * Source-compatible with the LCMAPS 1.6 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCMAPS_MODULES_H
#define LCMAPS_MODULES_H

#include "lcmaps_utils.h"
#include "lcmaps_log.h"
#include "lcmaps_types.h"
#include "lcmaps_defines.h"

#endif /* LCMAPS_MODULES_H */
