package io.dataplane.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.testing.Prerequisites;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class KeysTest {
    private static String wg(String input, String... args) throws IOException, InterruptedException {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "wg";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (input != null) p.getOutputStream().write(input.getBytes(StandardCharsets.US_ASCII));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), "wg " + String.join(" ", args) + ": " + out);
        return out;
    }

    @Test
    void publicKeyDerivationMatchesTheWgTool() throws Exception {
        Prerequisites.program("wg");
        for (int i = 0; i < 5; i++) {
            String priv = wg(null, "genkey");
            String pub = wg(priv + "\n", "pubkey");
            assertEquals(pub, NoisePrivateKey.parse(priv).publicKey().toBase64(), "wg genkey | wg pubkey");
        }
        // and the other way round: our generated key, their derivation
        NoisePrivateKey ours = NoisePrivateKey.generate();
        assertEquals(wg(ours.toBase64() + "\n", "pubkey"), ours.publicKey().toBase64());
        // an unclamped key: wg clamps it before deriving, so do we
        String unclamped = java.util.Base64.getEncoder().encodeToString(new byte[] {
            (byte) 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
            28, 29, 30, (byte) 0xff});
        assertEquals(wg(unclamped + "\n", "pubkey"), NoisePrivateKey.parse(unclamped).publicKey().toBase64());
        PresharedKey.parse(wg(null, "genpsk"));
    }

    @Test
    void privateMaterialNeverShows() {
        NoisePrivateKey k = NoisePrivateKey.generate();
        String secret = k.toBase64();
        assertFalse(k.toString().contains(secret));
        assertTrue(k.toString().contains(k.publicKey().toBase64()));
        WireGuardConfig c = WireGuardConfig.of(k);
        assertFalse(c.toString().contains(secret));
        PresharedKey psk = PresharedKey.generate();
        assertFalse(psk.toString().contains(psk.toBase64()));

        String almost = secret.substring(0, 40) + "!!!=";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NoisePrivateKey.parse(almost));
        assertFalse(e.getMessage().contains(secret.substring(0, 40)), e.getMessage());
        String shortKey = secret.substring(0, 20);
        e = assertThrows(IllegalArgumentException.class, () -> NoisePrivateKey.parse(shortKey));
        assertFalse(e.getMessage().contains(shortKey), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PresharedKey.parse(shortKey));
        assertFalse(e.getMessage().contains(shortKey), e.getMessage());
        // public keys are not secret: their errors show the text
        e = assertThrows(IllegalArgumentException.class, () -> NoisePublicKey.parse("abc"));
        assertTrue(e.getMessage().contains("\"abc\""), e.getMessage());
    }

    @Test
    void publicKeyRoundTripAndEquality() {
        NoisePublicKey p = NoisePrivateKey.generate().publicKey();
        assertEquals(p, NoisePublicKey.parse(p.toBase64()));
        assertEquals(p.hashCode(), NoisePublicKey.parse(p.toBase64()).hashCode());
        assertEquals(44, p.toBase64().length());
    }

    @Test
    void unusablePeerKeyIsRefused() throws Exception {
        try (var pool = new io.dataplane.core.buffer.PacketPool(4)) {
            WireGuardDevice d = new WireGuardDevice(WireGuardConfig.of(NoisePrivateKey.generate()), new io.dataplane.core.table.RouteTable(), pool, b -> b.release());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> d.addPeer(PeerConfig.of(NoisePublicKey.of(new byte[32]), 0, 0, java.util.List.of())));
            assertTrue(e.getMessage().contains("low order"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> d.addPeer(PeerConfig.of(d.publicKey(), 0, 0, java.util.List.of())));
        }
    }
}
