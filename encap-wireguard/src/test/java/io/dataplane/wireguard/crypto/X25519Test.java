package io.dataplane.wireguard.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.math.BigInteger;
import java.security.KeyFactory;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import java.util.SplittableRandom;
import javax.crypto.KeyAgreement;
import org.junit.jupiter.api.Test;

class X25519Test {
    @Test
    void rfc7748Section5_2Vectors() {
        assertEquals("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552", Hex.of(X25519.sharedSecret(
                Hex.bytes("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
                Hex.bytes("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"))));
        // The u-coordinate of this one has its top bit set, which X25519 must ignore.
        assertEquals("95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957", Hex.of(X25519.sharedSecret(
                Hex.bytes("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"),
                Hex.bytes("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"))));
    }

    @Test
    void rfc7748IteratedVectorOneAndThousand() {
        byte[] k = new byte[32];
        byte[] u = new byte[32];
        k[0] = 9;
        u[0] = 9;
        for (int i = 1; i <= 1000; i++) {
            byte[] r = X25519.sharedSecret(k, u);
            u = k;
            k = r;
            if (i == 1) assertEquals("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079", Hex.of(k));
        }
        assertEquals("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51", Hex.of(k));
    }

    @Test
    void rfc7748Section6_1DiffieHellman() {
        byte[] alice = Hex.bytes("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        byte[] bob = Hex.bytes("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
        assertEquals("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", Hex.of(X25519.publicKey(alice)));
        assertEquals("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", Hex.of(X25519.publicKey(bob)));
        String shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
        assertEquals(shared, Hex.of(X25519.sharedSecret(alice, X25519.publicKey(bob))));
        assertEquals(shared, Hex.of(X25519.sharedSecret(bob, X25519.publicKey(alice))));
    }

    @Test
    void lowOrderPointGivesNull() {
        byte[] priv = X25519.generatePrivateKey();
        assertNull(X25519.sharedSecret(priv, new byte[32]), "u = 0");
        byte[] one = new byte[32];
        one[0] = 1;
        assertNull(X25519.sharedSecret(priv, one), "u = 1");
    }

    @Test
    void generatedKeysAreClamped() {
        for (int i = 0; i < 20; i++) {
            byte[] k = X25519.generatePrivateKey();
            assertEquals(0, k[0] & 7);
            assertEquals(0x40, k[31] & 0xc0);
        }
    }
    @Test
    void agreesWithTheJdksXdhOnRandomKeysAndPoints() throws Exception {
        SplittableRandom random = new SplittableRandom(7748);
        for (int i = 0; i < 200; i++) {
            byte[] k = new byte[32];
            byte[] u = new byte[32];
            random.nextBytes(k);
            random.nextBytes(u);
            // Among them u-coordinates at and past p (non-canonical, to be reduced) and with the top bit set.
            if (i % 10 == 1) java.util.Arrays.fill(u, (byte) 0xff);
            if (i % 10 == 2) {
                java.util.Arrays.fill(u, (byte) 0xff);
                u[0] = (byte) 0xed;
                u[31] = 0x7f;
            }
            if (i % 10 == 3) u[31] |= (byte) 0x80;
            assertEquals(jdk(k, u), X25519.sharedSecret(k, u) == null ? null : Hex.of(X25519.sharedSecret(k, u)), "case " + i);
        }
    }

    @Test
    void fieldEncodingIsCanonicalAtTheEdgesOfP() {
        BigInteger p = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));
        for (long delta = -40; delta <= 40; delta++) {
            for (BigInteger base : new BigInteger[] {BigInteger.ZERO, p, BigInteger.TWO.pow(255)}) {
                BigInteger v = base.add(BigInteger.valueOf(delta));
                if (v.signum() < 0 || v.bitLength() > 255) continue;
                long[] f = Field25519.decode(le(v));
                assertEquals(Hex.of(le(v.mod(p))), Hex.of(Field25519.encode(f)), "v = base + " + delta);
                // And through the arithmetic: v * 1 - 0, and 0 - v + v.
                long[] g = new long[Field25519.LIMBS];
                Field25519.mul(g, f, Field25519.one());
                assertEquals(Hex.of(le(v.mod(p))), Hex.of(Field25519.encode(g)), "v * 1, v = base + " + delta);
                Field25519.sub(g, new long[Field25519.LIMBS], f);
                assertEquals(Hex.of(le(v.negate().mod(p))), Hex.of(Field25519.encode(g)), "-v, v = base + " + delta);
            }
        }
    }

    /** The 32 little-endian bytes of {@code v} (below 2^256). */
    private static byte[] le(BigInteger v) {
        byte[] out = new byte[32];
        byte[] be = v.toByteArray();
        for (int i = 0; i < be.length && i < 32; i++) out[i] = be[be.length - 1 - i];
        return out;
    }

    /** X25519(k, u) by the JDK's XDH, hex, or null where it refuses the point (small order: a result of zero). */
    private static String jdk(byte[] k, byte[] u) throws Exception {
        byte[] be = new byte[32];
        for (int i = 0; i < 32; i++) be[i] = u[31 - i];
        be[0] &= 0x7f;
        KeyFactory kf = KeyFactory.getInstance("XDH");
        KeyAgreement ka = KeyAgreement.getInstance("X25519");
        ka.init(kf.generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, k)));
        try {
            ka.doPhase(kf.generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, new BigInteger(1, be))), true);
            return Hex.of(ka.generateSecret());
        } catch (java.security.InvalidKeyException e) {
            return null; // the JDK's answer to a small-order point (a result of zero)
        }
    }
}
