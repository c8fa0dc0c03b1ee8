package io.dataplane.core.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Any text to {@link Ipv4Prefix#parse}: it accepts exactly {@code address[/len]} with len 0-32 (one
 * or two decimal digits, no leading zero, like the octets) and no host bits, compared against a slow reference, and refuses the rest
 * with {@link IllegalArgumentException} only.
 */
class Ipv4PrefixFuzzTest {
    private static final Pattern PREFIX = Pattern.compile("(" + Ipv4AddressFuzzTest.OCTET + "(?:\\." + Ipv4AddressFuzzTest.OCTET
            + "){3})(?:/(0|[1-9][0-9]?))?");

    @FuzzTest
    @DictionaryEntries({".", "/", "0", "/0", "/32", "/33", "/08", "255", "10.244.0.0/16", "10.244.1.0/16", "\u0663", "\uff12"})
    void parse(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        Ipv4Prefix expected = reference(text);
        Ipv4Prefix actual;
        try {
            actual = Ipv4Prefix.parse(text);
        } catch (IllegalArgumentException e) {
            assertTrue(expected == null, "refused " + text + ", expected " + expected);
            assertTrue(e.getMessage().contains(text), "the message names the text");
            return;
        }
        assertEquals(expected, actual, text);
        assertEquals(actual, Ipv4Prefix.parse(actual.toString()));
        assertTrue(actual.contains(actual.address()) && actual.contains(actual.lastAddress()));
    }

    /** The prefix {@code text} denotes, or null; written for clarity, not speed. */
    private static Ipv4Prefix reference(String text) {
        Matcher m = PREFIX.matcher(text);
        if (!m.matches()) return null;
        String[] octets = m.group(1).split("\\.");
        long address = 0;
        for (String o : octets) address = address * 256 + Integer.parseInt(o);
        int length = m.group(2) == null ? 32 : Integer.parseInt(m.group(2));
        if (length > 32) return null;
        long hostMask = length == 32 ? 0 : (1L << (32 - length)) - 1;
        if ((address & hostMask) != 0) return null;
        return new Ipv4Prefix((int) address, length);
    }
}
