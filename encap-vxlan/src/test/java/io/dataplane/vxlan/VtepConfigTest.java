package io.dataplane.vxlan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.MacAddress;
import org.junit.jupiter.api.Test;

class VtepConfigTest {
    static final MacAddress MAC = MacAddress.parse("66:b9:ad:e8:c0:88");
    static final int VTEP = Ipv4Address.parse("10.244.1.0");

    static String error(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void flannelsDefaults() {
        VtepConfig c = VtepConfig.of(MAC, VTEP, 1450);
        assertEquals(1, c.vni());
        assertEquals(8472, c.port());
        assertEquals(false, c.acceptUnknownPeers());
        assertEquals(4789, c.withPort(4789).port());
        assertEquals(16777215, c.withVni(16777215).vni());
        assertEquals(0, c.withVni(0).vni());
    }

    @Test
    void everyBadFieldIsNamedWithItsValue() {
        VtepConfig c = VtepConfig.of(MAC, VTEP, 1450);
        assertEquals("VNI out of range: vni=16777216 (max 16777215)", error(() -> c.withVni(1 << 24)));
        assertEquals("VNI out of range: vni=-1 (min 0)", error(() -> c.withVni(-1)));
        assertEquals("VXLAN port out of range: port=0 (1-65535)", error(() -> c.withPort(0)));
        assertEquals("VXLAN port out of range: port=65536 (1-65535)", error(() -> c.withPort(65536)));
        assertEquals("inner MTU out of range: innerMtu=67 (68-65535)", error(() -> VtepConfig.of(MAC, VTEP, 67)));
        assertEquals("VTEP MAC not a unicast address: vtepMac=01:00:5e:00:00:01",
                error(() -> VtepConfig.of(MacAddress.parse("01:00:5e:00:00:01"), VTEP, 1450)));
        assertEquals("VTEP MAC not a unicast address: vtepMac=00:00:00:00:00:00", error(() -> VtepConfig.of(MacAddress.ZERO, VTEP, 1450)));
        assertEquals("VTEP MAC missing: vtepMac=null", error(() -> VtepConfig.of(null, VTEP, 1450)));
        assertEquals("VTEP address missing: vtepAddress=0.0.0.0", error(() -> VtepConfig.of(MAC, 0, 1450)));
    }
}
