package io.dataplane.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The leak check finds a key logged at any level or printed, in base64 or hex, and nothing else. */
class SecretLeakCheckTest {
    private static final byte[] KEY = new byte[32];

    static {
        for (int i = 0; i < KEY.length; i++) KEY[i] = (byte) (i * 7 + 3);
    }

    private static final String BASE64 = Base64.getEncoder().encodeToString(KEY);
    private static final Set<String> SECRETS = Set.of(BASE64, HexFormat.of().formatHex(KEY));

    @Test
    void findsAKeyLoggedAtDebugOrPrintedAsHex() {
        List<String> leaks;
        try (SecretLeakCheck.Capture capture = new SecretLeakCheck.Capture()) {
            System.getLogger("io.dataplane.test").log(System.Logger.Level.DEBUG, "key file read: " + BASE64);
            System.out.println("bytes " + HexFormat.of().formatHex(KEY));
            leaks = capture.leaks(SECRETS);
        }
        assertEquals(2, leaks.size(), String.join("\n", leaks));
        assertTrue(leaks.stream().noneMatch(l -> l.contains(BASE64)), "the report masks the key: " + leaks);
    }

    @Test
    void otherOutputIsNoLeak() {
        try (SecretLeakCheck.Capture capture = new SecretLeakCheck.Capture()) {
            System.getLogger("io.dataplane.test").log(System.Logger.Level.INFO, "public key " + Base64.getEncoder().encodeToString(new byte[32]));
            System.err.println(BASE64.substring(0, 40));
            assertEquals(List.of(), capture.leaks(SECRETS));
        }
    }
}
