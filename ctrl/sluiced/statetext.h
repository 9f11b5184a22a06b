/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The state file's text (persist.h) for an overlay and the model's ids,
 * written straight into one buffer. It says what
 * persist_render(ov, model_ids_to_json(m)) says (the same document, compact
 * and in the members' order), without building a JSON tree: sluiced
 * renders the state on every CLI change, and at 16,384 backends the tree
 * (tens of thousands of objects allocated, sorted, printed and freed) cost
 * more than the rest of the change.
 */
#ifndef SLUICED_STATETEXT_H
#define SLUICED_STATETEXT_H

#include <jansson.h>

#include "model.h"
#include "overlay.h"

/* malloc'd text, or NULL when out of memory; host: the host's state (the
 * drain, routing.c), or NULL. */
char *statetext_render(const struct overlay *ov, const struct model *m, const json_t *host);

#endif /* SLUICED_STATETEXT_H */
