package io.dataplane.core.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MacAddressTest {

    @Test
    void parsesAndFormats() {
        MacAddress mac = MacAddress.parse("22:e8:35:88:1e:9a");
        assertEquals(0x22e835881e9aL, mac.value());
        assertEquals("22:e8:35:88:1e:9a", mac.toString());
        assertEquals(mac, MacAddress.parse("22-E8-35-88-1E-9A"));
        assertEquals("ff:ff:ff:ff:ff:ff", MacAddress.BROADCAST.toString());
        assertEquals("00:00:00:00:00:00", MacAddress.ZERO.toString());
    }

    @Test
    void malformedTextIsRefusedNamingIt() {
        String[] bad = {"", "22:e8:35:88:1e", "22:e8:35:88:1e:9a:00", "22:e8:35:88:1e:9g", "22:e8-35:88:1e:9a", "22.e8.35.88.1e.9a",
            "22:e8:35:88:1e: a", "\uff12\uff12:e8:35:88:1e:9a", "2:e8:35:88:1e:9a0", "22:e8:35:88:1e:9a "};
        for (String text : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MacAddress.parse(text), text);
            assertTrue(e.getMessage().startsWith("not a MAC address: \"" + text + "\""), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> MacAddress.parse(null));
        assertEquals("MAC address wider than 48 bits: 0x1000000000000",
                assertThrows(IllegalArgumentException.class, () -> new MacAddress(1L << 48)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new MacAddress(-1));
        assertEquals("MAC address needs 6 bytes, got 5",
                assertThrows(IllegalArgumentException.class, () -> MacAddress.of(new byte[5])).getMessage());
    }

    @Test
    void bytesAndMemoryInWireOrder() {
        MacAddress mac = MacAddress.parse("0e:82:42:bd:43:0b");
        byte[] wire = Bytes.of(0x0e, 0x82, 0x42, 0xbd, 0x43, 0x0b);
        assertArrayEquals(wire, mac.toBytes());
        assertEquals(mac, MacAddress.of(wire));
        MemorySegment s = MemorySegment.ofArray(new byte[9]);
        MacAddress.write(s, 3, mac.value());
        assertArrayEquals(Bytes.concat(new byte[3], wire), s.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        assertEquals(mac.value(), MacAddress.read(s, 3));
        MacAddress.write(s, 1, MacAddress.BROADCAST.value());
        assertEquals(MacAddress.BROADCAST.value(), MacAddress.read(s, 1));
    }

    @Test
    void randomAddressesAreUnicastAndLocallyAdministered() {
        SplittableRandom random = new SplittableRandom(826);
        MacAddress previous = null;
        for (int i = 0; i < 10_000; i++) {
            MacAddress mac = MacAddress.randomLocallyAdministered(random);
            assertFalse(mac.isMulticast(), mac::toString);
            assertTrue(mac.isLocallyAdministered(), mac::toString);
            assertEquals(2, Integer.parseInt(mac.toString().substring(0, 2), 16) & 0x03, mac::toString);
            assertEquals(mac, MacAddress.parse(mac.toString()));
            assertNotEquals(previous, mac);
            previous = mac;
        }
    }

    @Test
    void groupAndLocalBits() {
        assertTrue(MacAddress.BROADCAST.isMulticast());
        assertTrue(MacAddress.parse("01:00:5e:00:00:16").isMulticast());
        assertFalse(MacAddress.parse("00:1b:21:00:00:01").isLocallyAdministered());
        assertTrue(MacAddress.parse("c6:98:8d:e1:25:db").isLocallyAdministered(), "the pcap's VTEPs are random, locally administered");
    }
}
