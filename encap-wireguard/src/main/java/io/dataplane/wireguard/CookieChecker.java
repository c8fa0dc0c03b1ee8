package io.dataplane.wireguard;

import io.dataplane.wireguard.crypto.Blake2s;
import io.dataplane.wireguard.crypto.X25519;
import io.dataplane.wireguard.crypto.XChaCha20Poly1305;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;

/**
 * The responder's side of WireGuard's DoS protection (whitepaper 5.4.7): checks mac1 of every
 * handshake message, and under load checks mac2 and answers a message without a valid one with a
 * cookie reply instead of doing any Diffie-Hellman.
 *
 * <p>mac1 = MAC(HASH("mac1----" || our public key), message up to mac1). The cookie is
 * MAC(Rm, source address || port) under a random secret Rm changed every two minutes; mac2 =
 * MAC(cookie, message up to mac2). The reply encrypts the cookie with XChaCha20-Poly1305 under
 * HASH("cookie--" || our public key), the message's mac1 as additional data.
 *
 * <p>Threads: called by the receive thread only (handshake messages are handled where they arrive);
 * {@code synchronized} only because the secret may be read by a test or a second receiver.
 */
final class CookieChecker {
    static final byte[] LABEL_MAC1 = "mac1----".getBytes(StandardCharsets.US_ASCII);
    static final byte[] LABEL_COOKIE = "cookie--".getBytes(StandardCharsets.US_ASCII);

    private final byte[] mac1Key;
    private final byte[] cookieKey;
    private final byte[] secret = new byte[32];
    private long secretSetNanos;
    private boolean secretSet;
    private final SecureRandom random = new SecureRandom();

    CookieChecker(NoisePublicKey ourPublicKey) {
        this.mac1Key = Blake2s.hash(LABEL_MAC1, ourPublicKey.bytes());
        this.cookieKey = Blake2s.hash(LABEL_COOKIE, ourPublicKey.bytes());
    }

    /** True if the mac1 of {@code msg} (a whole handshake message, mac1 and mac2 last) verifies. */
    boolean checkMac1(byte[] msg) {
        int mac1 = msg.length - 32;
        byte[] expect = Blake2s.mac(mac1Key, msg, 0, mac1);
        return X25519.equal(expect, java.util.Arrays.copyOfRange(msg, mac1, mac1 + 16));
    }

    /** True if the mac2 of {@code msg} was made with the cookie we would give {@code source}. */
    synchronized boolean checkMac2(byte[] msg, byte[] source, long now, WireGuardTimings t) {
        if (!secretSet || now - secretSetNanos > t.cookieRefreshTime()) return false;
        byte[] cookie = Blake2s.mac(secret, source);
        int mac2 = msg.length - 16;
        byte[] expect = Blake2s.mac(cookie, msg, 0, mac2);
        return X25519.equal(expect, java.util.Arrays.copyOfRange(msg, mac2, mac2 + 16));
    }

    /** The 64-byte cookie reply to {@code msg} (whose sender index is {@code sender}) from {@code source}. */
    synchronized byte[] createReply(byte[] msg, int sender, byte[] source, long now, WireGuardTimings t) {
        if (!secretSet || now - secretSetNanos > t.cookieRefreshTime()) {
            random.nextBytes(secret);
            secretSetNanos = now;
            secretSet = true;
        }
        byte[] cookie = Blake2s.mac(secret, source);
        int mac1 = msg.length - 32;
        byte[] aad = java.util.Arrays.copyOfRange(msg, mac1, mac1 + 16);
        byte[] reply = new byte[CookieReplyMessage.LEN];
        Le.putInt(reply, 0, MessageType.COOKIE_REPLY);
        Le.putInt(reply, CookieReplyMessage.RECEIVER, sender);
        byte[] nonce = new byte[XChaCha20Poly1305.NONCE_LEN];
        random.nextBytes(nonce);
        System.arraycopy(nonce, 0, reply, CookieReplyMessage.NONCE, nonce.length);
        byte[] sealed = XChaCha20Poly1305.seal(cookieKey, nonce, cookie, aad);
        System.arraycopy(sealed, 0, reply, CookieReplyMessage.COOKIE, sealed.length);
        return reply;
    }

    /** The cookie source bytes of an underlay endpoint: the IPv4 address (big-endian) and the port. */
    static byte[] source(int address, int port) {
        return new byte[] {(byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address,
                (byte) port, (byte) (port >>> 8)};
    }
}
