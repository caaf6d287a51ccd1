/* SPDX-License-Identifier: MIT */
#ifndef VW_CRYPTO_AEAD_BATCH_INTERNAL_H
#define VW_CRYPTO_AEAD_BATCH_INTERNAL_H

#include <stdbool.h>

/*
 * For tests: aead_seal_batch / aead_open_batch take the per-message path even where
 * the CPU has AVX2, so both paths can be checked against each other on one machine.
 * Not thread-safe; set it before the batches it should affect.
 */
void aead_batch_force_portable(bool on);
/* Whether the 8-lane AVX2 path is available here (CPU and build) and not forced off. */
bool aead_batch_vector_active(void);

#endif
