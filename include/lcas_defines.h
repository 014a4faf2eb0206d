/* lcas_defines.h -- lcmaps-rs: LCAS 1.3 plugin return codes
 * Source-compatible with the LCAS 1.3 header of the same name.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCAS_DEFINES_H
#define LCAS_DEFINES_H

#define LCAS_MOD_SUCCESS (int)(0) /* authorized / call succeeded */
#define LCAS_MOD_FAIL    (int)(1) /* refused / call failed */
#define LCAS_MOD_NOFILE  (int)(2) /* a file the plugin needs is missing */
#define LCAS_MOD_ENTRY   (int)(3) /* the entry was found */
#define LCAS_MOD_NOENTRY (int)(4) /* the entry was not found */

#endif /* LCAS_DEFINES_H */
