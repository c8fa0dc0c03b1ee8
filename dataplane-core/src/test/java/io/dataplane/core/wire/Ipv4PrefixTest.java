package io.dataplane.core.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class Ipv4PrefixTest {

    @Test
    void parsesAndFormats() {
        Ipv4Prefix p = Ipv4Prefix.parse("10.244.0.0/16");
        assertEquals(0x0af40000, p.address());
        assertEquals(16, p.length());
        assertEquals("10.244.0.0/16", p.toString());
        assertEquals(new Ipv4Prefix(0x0af40100, 24), Ipv4Prefix.parse("10.244.1.0/24"));
        assertEquals(new Ipv4Prefix(0, 0), Ipv4Prefix.parse("0.0.0.0/0"));
        assertEquals(new Ipv4Prefix(0x0af40101, 32), Ipv4Prefix.parse("10.244.1.1/32"));
        assertEquals(new Ipv4Prefix(0x0af40101, 32), Ipv4Prefix.parse("10.244.1.1"), "a bare address is a /32");
    }

    @Test
    void lengthBeyond32IsRefusedNamingTheText() {
        assertEquals("prefix length out of range: \"10.244.0.0/33\" (0-32)",
                assertThrows(IllegalArgumentException.class, () -> Ipv4Prefix.parse("10.244.0.0/33")).getMessage());
        assertEquals("prefix length out of range: 10.244.0.0/33 (0-32)",
                assertThrows(IllegalArgumentException.class, () -> new Ipv4Prefix(0x0af40000, 33)).getMessage());
        assertEquals("prefix length out of range: 10.244.0.0/-1 (0-32)",
                assertThrows(IllegalArgumentException.class, () -> new Ipv4Prefix(0x0af40000, -1)).getMessage());
        assertEquals("prefix length out of range: 10.244.0.1/40 (0-32)",
                assertThrows(IllegalArgumentException.class, () -> Ipv4Prefix.containing(0x0af40001, 40)).getMessage());
    }

    @Test
    void hostBitsAreRefusedNamingTheTextAndTheLikelyIntent() {
        assertEquals("prefix has host bits set: \"10.244.1.0/16\" (did you mean 10.244.0.0/16?)",
                assertThrows(IllegalArgumentException.class, () -> Ipv4Prefix.parse("10.244.1.0/16")).getMessage());
        assertEquals("prefix has host bits set: 10.244.1.1/24 (did you mean 10.244.1.0/24?)",
                assertThrows(IllegalArgumentException.class, () -> new Ipv4Prefix(0x0af40101, 24)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> Ipv4Prefix.parse("0.0.0.1/0"));
    }

    @Test
    void badAddressIsRefusedNamingTheText() {
        assertEquals("not an IPv4 address: \"300.1.1.1\"",
                assertThrows(IllegalArgumentException.class, () -> Ipv4Prefix.parse("300.1.1.1")).getMessage());
        assertEquals("not an IPv4 prefix: \"300.1.1.0/24\" (bad address)",
                assertThrows(IllegalArgumentException.class, () -> Ipv4Prefix.parse("300.1.1.0/24")).getMessage());
    }

    @Test
    void malformedLengthIsRefusedNamingTheText() {
        for (String text : new String[] {"10.0.0.0/", "10.0.0.0/x", "10.0.0.0/-8", "10.0.0.0/+8", "10.0.0.0/ 8", "10.0.0.0/08",
            "10.0.0.0/100", "10.0.0.0/8/8"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ipv4Prefix.parse(text), text);
            assertTrue(e.getMessage().contains("\"" + text + "\""), e.getMessage());
        }
        assertEquals("IPv4 prefix missing: null", assertThrows(IllegalArgumentException.class, () -> Ipv4Prefix.parse(null)).getMessage());
    }

    @Test
    void masksAndMembership() {
        assertEquals(0, Ipv4Prefix.mask(0));
        assertEquals(0x80000000, Ipv4Prefix.mask(1));
        assertEquals(0xffffff00, Ipv4Prefix.mask(24));
        assertEquals(-1, Ipv4Prefix.mask(32));
        Ipv4Prefix net = Ipv4Prefix.parse("10.244.0.0/16");
        assertTrue(net.contains(Ipv4Address.parse("10.244.255.255")));
        assertFalse(net.contains(Ipv4Address.parse("10.245.0.0")));
        assertTrue(net.contains(Ipv4Prefix.parse("10.244.1.0/24")));
        assertFalse(Ipv4Prefix.parse("10.244.1.0/24").contains(net));
        assertTrue(Ipv4Prefix.parse("0.0.0.0/0").contains(Ipv4Address.parse("255.255.255.255")));
        assertEquals("10.244.255.255", Ipv4Address.toString(net.lastAddress()));
        assertEquals(65536, net.size());
        assertEquals(1L << 32, Ipv4Prefix.parse("0.0.0.0/0").size());
        assertEquals(1, Ipv4Prefix.parse("1.2.3.4/32").size());
        assertEquals(Ipv4Prefix.parse("10.244.1.0/24"), Ipv4Prefix.containing(Ipv4Address.parse("10.244.1.77"), 24));
        assertEquals(Ipv4Prefix.parse("0.0.0.0/0"), Ipv4Prefix.containing(-1, 0));
    }
}
