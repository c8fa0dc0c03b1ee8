package io.dataplane.wireguard.crypto;

/**
 * BLAKE2s (RFC 7693) as WireGuard uses it: HASH, the unkeyed 32-byte digest, and MAC, the keyed
 * 16-byte digest of mac1, mac2 and cookies.
 *
 * <p>Our own, after the RFC, rather than a library's: a node hashes only a few times per handshake
 * message, and a library's digest brings its framework with it (BouncyCastle's consults its
 * {@code CryptoServicesRegistrar}, which loads its ASN.1 classes and opens its 6,000-entry jar),
 * all of which a WireGuard node would keep resident for the few hundred bytes it hashes. The tests
 * check it against the RFC's vectors and against BouncyCastle's digest.
 *
 * <p>Handshake path only, so a fresh state per call is fine.
 */
public final class Blake2s {
    /** Size of HASH in bytes. */
    public static final int HASH_LEN = 32;
    /** Size of MAC in bytes. */
    public static final int MAC_LEN = 16;

    private static final int BLOCK_LEN = 64;
    /** The initialization vector, SHA-256's (RFC 7693 section 2.6). */
    private static final int[] IV = {
        0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
    };
    /** The message word schedule of each of the ten rounds (RFC 7693 section 2.7). */
    private static final byte[][] SIGMA = {
        {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
        {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
        {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
        {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
        {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
        {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
        {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
        {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
        {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
        {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    };

    private final int[] h = new int[8];
    private final int[] v = new int[16];
    private final int[] m = new int[16];
    /** Input not yet compressed: up to a whole block, kept until more comes or the end, since the last block is flagged. */
    private final byte[] buffer = new byte[BLOCK_LEN];
    private final int outLen;
    private int buffered;
    private long counter;

    private Blake2s(byte[] key, int outLen) {
        this.outLen = outLen;
        System.arraycopy(IV, 0, h, 0, 8);
        int keyLen = key == null ? 0 : key.length;
        if (keyLen > 32) throw new IllegalArgumentException("BLAKE2s key longer than 32 bytes: keyLen=" + keyLen);
        // The parameter block's first word: digest length, key length, fanout 1, depth 1.
        h[0] ^= 0x01010000 ^ keyLen << 8 ^ outLen;
        if (keyLen > 0) {
            // The key, zero-padded, is the first block.
            System.arraycopy(key, 0, buffer, 0, keyLen);
            buffered = BLOCK_LEN;
        }
    }

    /** HASH(a || b || ...): unkeyed BLAKE2s-256. */
    public static byte[] hash(byte[]... parts) {
        Blake2s d = new Blake2s(null, HASH_LEN);
        for (byte[] p : parts) d.update(p, 0, p.length);
        return d.digest();
    }

    /** MAC(key, data[off, off+len)): BLAKE2s keyed with {@code key}, 16-byte output. */
    public static byte[] mac(byte[] key, byte[] data, int off, int len) {
        Blake2s d = new Blake2s(key, MAC_LEN);
        d.update(data, off, len);
        return d.digest();
    }

    /** MAC(key, data). */
    public static byte[] mac(byte[] key, byte[] data) {
        return mac(key, data, 0, data.length);
    }

    private void update(byte[] in, int off, int len) {
        while (len > 0) {
            if (buffered == BLOCK_LEN) {
                counter += BLOCK_LEN;
                compress(false);
                buffered = 0;
            }
            int n = Math.min(len, BLOCK_LEN - buffered);
            System.arraycopy(in, off, buffer, buffered, n);
            buffered += n;
            off += n;
            len -= n;
        }
    }

    private byte[] digest() {
        counter += buffered;
        java.util.Arrays.fill(buffer, buffered, BLOCK_LEN, (byte) 0);
        compress(true);
        byte[] out = new byte[outLen];
        for (int i = 0; i < outLen; i++) out[i] = (byte) (h[i >> 2] >>> 8 * (i & 3));
        return out;
    }

    /** The compression function F (RFC 7693 section 3.2) over the buffered block. */
    private void compress(boolean last) {
        for (int i = 0; i < 16; i++) {
            int o = 4 * i;
            m[i] = buffer[o] & 0xff | (buffer[o + 1] & 0xff) << 8 | (buffer[o + 2] & 0xff) << 16 | (buffer[o + 3] & 0xff) << 24;
        }
        System.arraycopy(h, 0, v, 0, 8);
        System.arraycopy(IV, 0, v, 8, 8);
        v[12] ^= (int) counter;
        v[13] ^= (int) (counter >>> 32);
        if (last) v[14] = ~v[14];
        for (byte[] s : SIGMA) {
            g(0, 4, 8, 12, m[s[0]], m[s[1]]);
            g(1, 5, 9, 13, m[s[2]], m[s[3]]);
            g(2, 6, 10, 14, m[s[4]], m[s[5]]);
            g(3, 7, 11, 15, m[s[6]], m[s[7]]);
            g(0, 5, 10, 15, m[s[8]], m[s[9]]);
            g(1, 6, 11, 12, m[s[10]], m[s[11]]);
            g(2, 7, 8, 13, m[s[12]], m[s[13]]);
            g(3, 4, 9, 14, m[s[14]], m[s[15]]);
        }
        for (int i = 0; i < 8; i++) h[i] ^= v[i] ^ v[i + 8];
    }

    /** The mixing function G (RFC 7693 section 3.1), BLAKE2s's rotations 16, 12, 8, 7. */
    private void g(int a, int b, int c, int d, int x, int y) {
        v[a] += v[b] + x;
        v[d] = Integer.rotateRight(v[d] ^ v[a], 16);
        v[c] += v[d];
        v[b] = Integer.rotateRight(v[b] ^ v[c], 12);
        v[a] += v[b] + y;
        v[d] = Integer.rotateRight(v[d] ^ v[a], 8);
        v[c] += v[d];
        v[b] = Integer.rotateRight(v[b] ^ v[c], 7);
    }
}
