#ifndef CSHA256_H
#define CSHA256_H

#include <stddef.h>
#include <stdint.h>

/// Whether this CPU has the SHA extensions (and SSSE3/SSE4.1) that
/// `csha256_compress_hw` needs. Always 0 off x86-64.
int csha256_hw_available(void);

/// Runs the SHA-256 compression function over `blocks` consecutive 64-byte blocks at
/// `data`, updating `state` (h0…h7). Call only when `csha256_hw_available()` is 1.
void csha256_compress_hw(uint32_t state[8], const uint8_t *data, size_t blocks);

#endif
