package io.dataplane.wireguard.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** BLAKE2s, HMAC-BLAKE2s, the KDF, XChaCha20-Poly1305 and TAI64N. */
class HashTest {
    @Test
    void blake2sRfc7693AppendixB() {
        assertEquals("508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982",
                Hex.of(Blake2s.hash("abc".getBytes(StandardCharsets.US_ASCII))));
    }

    @Test
    void blake2sKeyedOfficialKat() {
        // blake2s-kat.txt: key 00..1f, input empty and input 00.
        byte[] key = new byte[32];
        for (int i = 0; i < 32; i++) key[i] = (byte) i;
        org.bouncycastle.crypto.digests.Blake2sDigest d = new org.bouncycastle.crypto.digests.Blake2sDigest(key, 32, null, null);
        byte[] out = new byte[32];
        d.doFinal(out, 0);
        assertEquals("48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49", Hex.of(out));
        d = new org.bouncycastle.crypto.digests.Blake2sDigest(key, 32, null, null);
        d.update((byte) 0);
        d.doFinal(out, 0);
        assertEquals("40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1", Hex.of(out));
    }

    @Test
    void macIsKeyedBlake2sWith16ByteOutputNotATruncation() {
        byte[] key = new byte[32];
        byte[] mac = Blake2s.mac(key, new byte[0]);
        assertEquals(16, mac.length);
        // BLAKE2s puts the output length in its parameter block, so the 16-byte MAC is not a prefix of the 32-byte one.
        org.bouncycastle.crypto.digests.Blake2sDigest d = new org.bouncycastle.crypto.digests.Blake2sDigest(key, 32, null, null);
        byte[] full = new byte[32];
        d.doFinal(full, 0);
        assertEquals(false, Hex.of(full).startsWith(Hex.of(mac)));
    }

    @Test
    void kdfVectorsOfWireguardGo() {
        String[][] vectors = {
            {"746573742d6b6579", "746573742d696e707574", "6f0e5ad38daba1bea8a0d213688736f19763239305e0f58aba697f9ffc41c633",
                "df1194df20802a4fe594cde27e92991c8cae66c366e8106aaa937a55fa371e8a",
                "fac6e2745a325f5dc5d11a5b165aad08b0ada28e7b4e666b7c077934a4d76c24"},
            {"776972656775617264", "776972656775617264", "491d43bbfdaa8750aaf535e334ecbfe5129967cd64635101c566d4caefda96e8",
                "1e71a379baefd8a79aa4662212fcafe19a23e2b609a3db7d6bcba8f560e3d25f",
                "31e1ae48bddfbe5de38f295e5452b1909a1b4e38e183926af3780b0c1e1f0160"},
            {"", "", "8387b46bf43eccfcf349552a095d8315c4055beb90208fb1be23b894bc2ed5d0",
                "58a0e5f6faefccf4807bff1f05fa8a9217945762040bcec2f4b4a62bdfe0e86e",
                "0ce6ea98ec548f8e281e93e32db65621c45eb18dc6f0a7ad94178610a2f7338e"},
        };
        for (String[] v : vectors) {
            byte[][] out = Hkdf.kdf(3, Hex.bytes(v[0]), Hex.bytes(v[1]));
            assertEquals(v[2], Hex.of(out[0]));
            assertEquals(v[3], Hex.of(out[1]));
            assertEquals(v[4], Hex.of(out[2]));
            assertEquals(v[2], Hex.of(Hkdf.kdf1(Hex.bytes(v[0]), Hex.bytes(v[1]))));
        }
    }

    @Test
    void xchacha20Poly1305DraftIrtfCfrgXchachaA3_1() {
        byte[] key = Hex.bytes("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
        byte[] nonce = Hex.bytes("404142434445464748494a4b4c4d4e4f5051525354555657");
        byte[] aad = Hex.bytes("50515253c0c1c2c3c4c5c6c7");
        String expected = "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39"
                + "ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9"
                + "664c97637da9768812f615c68b13b52e" + "c0875924c1c7987947deafd8780acf49";
        byte[] sealed = XChaCha20Poly1305.seal(key, nonce, ChaCha20Poly1305Test.SUNSCREEN, aad);
        assertEquals(expected, Hex.of(sealed));
        assertArrayEquals(ChaCha20Poly1305Test.SUNSCREEN, XChaCha20Poly1305.open(key, nonce, sealed, 0, sealed.length, aad));
        sealed[0] ^= 1;
        assertNull(XChaCha20Poly1305.open(key, nonce, sealed, 0, sealed.length, aad));
    }

    @Test
    void tai64nIsBigEndianSecondsPlusTwoToTheSixtyTwoAndOrdered() {
        byte[] t = Tai64n.of(1_000_000_000L * 1_700_000_000L + 123_456_789L);
        assertEquals("400000006553f10a", Hex.of(java.util.Arrays.copyOf(t, 8)));
        // nanoseconds rounded down to a multiple of 2^24
        long nanos = ((t[8] & 0xffL) << 24) | ((t[9] & 0xff) << 16) | ((t[10] & 0xff) << 8) | (t[11] & 0xff);
        assertEquals(123_456_789L & ~0xffffffL, nanos);
        byte[] later = Tai64n.of(1_000_000_000L * 1_700_000_001L);
        assertEquals(true, Tai64n.after(later, t));
        assertEquals(false, Tai64n.after(t, later));
        assertEquals(false, Tai64n.after(t, t.clone()));
    }
}
