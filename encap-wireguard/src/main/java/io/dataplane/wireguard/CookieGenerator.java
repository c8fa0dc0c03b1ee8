package io.dataplane.wireguard;

import io.dataplane.wireguard.crypto.Blake2s;
import io.dataplane.wireguard.crypto.XChaCha20Poly1305;

/**
 * The initiator's side of the cookie mechanism, one per peer: writes mac1 (and mac2 while it holds
 * a fresh cookie from that peer) into every handshake message it sends, and takes the cookie out of
 * a cookie reply, which must answer the last mac1 it sent.
 *
 * <p>Threads: guarded by its own monitor; handshake messages are created on whichever thread starts
 * a handshake and cookie replies arrive on the receive thread.
 */
final class CookieGenerator {
    private final byte[] mac1Key;
    private final byte[] cookieKey;
    private final byte[] lastMac1 = new byte[16];
    private boolean hasLastMac1;
    private byte[] cookie;
    private long cookieSetNanos;

    CookieGenerator(NoisePublicKey peerPublicKey) {
        this.mac1Key = Blake2s.hash(CookieChecker.LABEL_MAC1, peerPublicKey.bytes());
        this.cookieKey = Blake2s.hash(CookieChecker.LABEL_COOKIE, peerPublicKey.bytes());
    }

    /** Fills the last 32 bytes of {@code msg} with mac1 and, while a cookie is fresh, mac2 (else zeros). */
    synchronized void addMacs(byte[] msg, long now, WireGuardTimings t) {
        int mac1 = msg.length - 32;
        int mac2 = msg.length - 16;
        byte[] m1 = Blake2s.mac(mac1Key, msg, 0, mac1);
        System.arraycopy(m1, 0, msg, mac1, 16);
        System.arraycopy(m1, 0, lastMac1, 0, 16);
        hasLastMac1 = true;
        if (cookie == null || now - cookieSetNanos > t.cookieRefreshTime()) {
            java.util.Arrays.fill(msg, mac2, mac2 + 16, (byte) 0);
            return;
        }
        byte[] m2 = Blake2s.mac(cookie, msg, 0, mac2);
        System.arraycopy(m2, 0, msg, mac2, 16);
    }

    /** Takes the cookie out of a 64-byte cookie reply; false when it does not decrypt against our last mac1. */
    synchronized boolean consumeReply(byte[] reply, long now) {
        if (!hasLastMac1) return false;
        byte[] nonce = java.util.Arrays.copyOfRange(reply, CookieReplyMessage.NONCE, CookieReplyMessage.NONCE + 24);
        byte[] c = XChaCha20Poly1305.open(cookieKey, nonce, reply, CookieReplyMessage.COOKIE, 32, lastMac1);
        if (c == null) return false;
        cookie = c;
        cookieSetNanos = now;
        return true;
    }

    /** True while a cookie received from the peer is fresh (tests). */
    synchronized boolean hasCookie(long now, WireGuardTimings t) {
        return cookie != null && now - cookieSetNanos <= t.cookieRefreshTime();
    }
}
