package io.dataplane.core.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Any text to {@link MacAddress#parse}: it accepts exactly six two-digit hex octets separated all
 * by colons or all by dashes, prints them back in lower case with colons, and refuses the rest
 * with {@link IllegalArgumentException} only.
 */
class MacAddressFuzzTest {
    private static final Pattern MAC = Pattern.compile("[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(?:\\1[0-9a-fA-F]{2}){4}");

    @FuzzTest
    @DictionaryEntries({":", "-", "ff", "0A", "22:e8:35:88:1e:9a", "22-E8-35-88-1E-9A", "\u0663", "\uff12"})
    void parse(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        boolean valid = MAC.matcher(text).matches();
        MacAddress mac;
        try {
            mac = MacAddress.parse(text);
        } catch (IllegalArgumentException e) {
            assertTrue(!valid, "refused a valid MAC address: " + text);
            assertTrue(e.getMessage().contains(text), "the message names the text");
            return;
        }
        assertTrue(valid, "accepted an invalid MAC address: " + text);
        assertEquals(text.toLowerCase(Locale.ROOT).replace('-', ':'), mac.toString());
        assertEquals(mac, MacAddress.parse(mac.toString()));
    }
}
