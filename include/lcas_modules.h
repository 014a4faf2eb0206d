/* lcas_modules.h -- lcmaps-rs: everything an LCAS plugin includes
 * Source-compatible with the LCAS 1.3 header of the same name. A plugin
 * defines plugin_initialize(int argc, char **argv),
 * plugin_confirm_authorization(lcas_request_t, lcas_cred_id_t) and
 * plugin_terminate(void), each returning an LCAS_MOD_* code.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef LCAS_MODULES_H
#define LCAS_MODULES_H

#include "lcas_utils.h"
#include "lcas_log.h"
#include "lcas_types.h"
#include "lcas_defines.h"

#endif /* LCAS_MODULES_H */
