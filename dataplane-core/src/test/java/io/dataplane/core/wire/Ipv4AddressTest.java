package io.dataplane.core.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Ipv4AddressTest {

    @Test
    void parsesDottedQuads() {
        assertEquals(0x0af40101, Ipv4Address.parse("10.244.1.1"));
        assertEquals(0, Ipv4Address.parse("0.0.0.0"));
        assertEquals(-1, Ipv4Address.parse("255.255.255.255"));
        assertEquals(0xc0000201, Ipv4Address.parse("192.0.2.1"));
    }

    @Test
    void formatsDottedQuads() {
        assertEquals("10.244.1.1", Ipv4Address.toString(0x0af40101));
        assertEquals("255.255.255.255", Ipv4Address.toString(-1));
        assertEquals("128.0.0.0", Ipv4Address.toString(0x80000000));
        assertEquals("0.0.0.0", Ipv4Address.toString(0));
    }

    @Test
    void roundTripsRandomAddressesAndAgreesWithTheJdk() throws Exception {
        SplittableRandom random = new SplittableRandom(4);
        for (int i = 0; i < 10_000; i++) {
            int a = random.nextInt();
            String text = Ipv4Address.toString(a);
            assertEquals(a, Ipv4Address.parse(text), text);
            assertEquals(text, Ipv4Address.toInetAddress(a).getHostAddress());
            assertEquals(a, Ipv4Address.of((Inet4Address) InetAddress.getByName(text)));
        }
    }

    @Test
    void octetAbove255IsRefusedNamingTheText() {
        assertEquals("not an IPv4 address: \"300.1.1.1\"",
                assertThrows(IllegalArgumentException.class, () -> Ipv4Address.parse("300.1.1.1")).getMessage());
        assertEquals("not an IPv4 address: \"1.1.1.256\"",
                assertThrows(IllegalArgumentException.class, () -> Ipv4Address.parse("1.1.1.256")).getMessage());
    }

    @Test
    void malformedTextIsRefusedNamingIt() {
        String[] bad = {"", ".", "1.2.3", "1.2.3.4.5", "1.2.3.", ".1.2.3", "1..2.3", "1.2.3.4.", "a.b.c.d", "1.2.3.4 ",
            " 1.2.3.4", "01.2.3.4", "1.2.3.04", "1.2.3.0004", "1.2.3.-4", "+1.2.3.4", "1,2,3,4", "10.244.1.1/24", "1.2.3.4\n",
            "\u0661.2.3.4", "12345.1.1.1", "99999999999.1.1.1"};
        for (String text : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ipv4Address.parse(text), text);
            assertEquals("not an IPv4 address: \"" + text + "\"", e.getMessage());
        }
        assertEquals("IPv4 address missing: null", assertThrows(IllegalArgumentException.class, () -> Ipv4Address.parse(null)).getMessage());
    }
}
