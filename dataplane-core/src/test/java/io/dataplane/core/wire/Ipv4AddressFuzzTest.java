package io.dataplane.core.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Any text (the input bytes as UTF-8) to {@link Ipv4Address#parse}: it accepts exactly what a
 * regular expression for dotted quads without leading zeros accepts, prints accepted text back
 * unchanged, and refuses everything else with {@link IllegalArgumentException} only.
 */
class Ipv4AddressFuzzTest {
    static final String OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])";
    private static final Pattern DOTTED_QUAD = Pattern.compile(OCTET + "(?:\\." + OCTET + "){3}");

    @FuzzTest
    @DictionaryEntries({".", "0", "1", "25", "255", "256", "300", "00", "10.244.1.1", "\u0663", "\uff12"})
    void parse(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        boolean valid = DOTTED_QUAD.matcher(text).matches();
        int address;
        try {
            address = Ipv4Address.parse(text);
        } catch (IllegalArgumentException e) {
            assertTrue(!valid, "refused a valid address: " + text);
            assertTrue(e.getMessage().contains(text), "the message names the text");
            return;
        }
        assertTrue(valid, "accepted an invalid address: " + text);
        assertEquals(text, Ipv4Address.toString(address));
    }
}
