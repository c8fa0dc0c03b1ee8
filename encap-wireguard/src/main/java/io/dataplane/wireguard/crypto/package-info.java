/**
 * WireGuard's primitives: X25519, BLAKE2s (HASH and MAC), HMAC-BLAKE2s and the HKDF of the
 * whitepaper, ChaCha20-Poly1305 (the JDK's for handshakes, an allocation-free in-place one over
 * MemorySegment for data), XChaCha20-Poly1305 for cookies, TAI64N timestamps. Each is checked
 * against the published vectors (RFC 7748, RFC 8439, RFC 7693, draft-irtf-cfrg-xchacha) in the tests.
 */
package io.dataplane.wireguard.crypto;
