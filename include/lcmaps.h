/* lcmaps.h -- lcmaps-rs: the caller API
 * Source-compatible with the LCMAPS 1.6 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCMAPS_H
#define LCMAPS_H

#ifdef LCMAPS_GSI_MODE
#include "lcmaps_openssl.h"
#include "lcmaps_globus.h"
#else
#include "lcmaps_basic.h"
#endif

#endif /* LCMAPS_H */
