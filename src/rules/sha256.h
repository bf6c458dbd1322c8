/* sha256: the SHA-256 digest (FIPS 180-4) and RFC 4648 base32, which
 * kube-proxy hashes its chain names with (kubeproxy.c). Here rather than
 * libcrypto so that the rule renderer stays a leaf its unit test links alone. */
#ifndef NFCOST_SHA256_H
#define NFCOST_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

void sha256(const void *data, size_t len, uint8_t out[SHA256_LEN]);
/* RFC 4648 base32 (A-Z2-7, '=' padded) of data into out, NUL-terminated and
 * cut to outlen - 1 characters (kube-proxy keeps the first 16 or 8). */
void base32_encode(const uint8_t *data, size_t len, char *out, size_t outlen);

#endif
