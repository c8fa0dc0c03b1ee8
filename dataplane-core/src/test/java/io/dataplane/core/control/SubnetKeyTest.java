package io.dataplane.core.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.dataplane.core.wire.Ipv4Prefix;
import org.junit.jupiter.api.Test;

class SubnetKeyTest {
    @Test
    void flannelsNames() {
        assertEquals("10.244.3.0-24", SubnetKey.of(Ipv4Prefix.parse("10.244.3.0/24")));
        assertEquals(Ipv4Prefix.parse("10.244.3.0/24"), SubnetKey.parse("/coreos.com/network/subnets/10.244.3.0-24"));
        assertEquals(Ipv4Prefix.parse("10.244.3.0/24"), SubnetKey.parse("10.244.3.0-24&fd00:10:244:3::-64"), "dual-stack key, IPv6 ignored");
    }

    @Test
    void foreignKeysNameNoSubnet() {
        for (String k : new String[] {"/p/subnets/garbage", "/p/subnets/10.244.3.1-24", "/p/subnets/10.244.3.0-33", "/p/subnets/10.244.3.0-24x",
                "/p/subnets/300.1.1.0-24", "/p/subnets/", "/p/subnets/10.244.3.0"}) {
            assertNull(SubnetKey.parse(k), k);
        }
    }
}
