package io.dataplane.tun.netlink;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The bytes of a request, checked by hand against linux/rtnetlink.h; and Route's rules. Runs without root. */
class NetlinkRequestTest {

    @Test
    void onlinkRouteRequestBytes() {
        try (Arena arena = Arena.ofConfined()) {
            NetlinkRequest r = new NetlinkRequest(arena.allocate(256));
            r.start(Rtnl.RTM_NEWROUTE, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_EXCL);
            long at = r.body(Rtnl.RTMSG);
            MemorySegment s = r.segment();
            s.set(ValueLayout.JAVA_BYTE, at + Rtnl.RTM_FAMILY, (byte) 2);
            s.set(ValueLayout.JAVA_BYTE, at + Rtnl.RTM_DST_LEN, (byte) 24);
            s.set(ValueLayout.JAVA_BYTE, at + Rtnl.RTM_TABLE, (byte) 254);
            s.set(ValueLayout.JAVA_BYTE, at + Rtnl.RTM_PROTOCOL, (byte) 3);
            s.set(ValueLayout.JAVA_BYTE, at + Rtnl.RTM_TYPE, (byte) 1);
            s.set(ValueLayout.JAVA_INT, at + Rtnl.RTM_FLAGS, Rtnl.RTNH_F_ONLINK);
            r.ipv4(Rtnl.RTA_DST, Ipv4Address.parse("10.244.2.0")).ipv4(Rtnl.RTA_GATEWAY, Ipv4Address.parse("10.244.2.0")).u32(Rtnl.RTA_OIF, 5);
            int len = r.finish(7);
            byte[] expected = HexFormat.of().parseHex(
                    "34000000" + "1800" + "0506" + "07000000" + "00000000" // nlmsghdr: len 52, RTM_NEWROUTE, REQUEST|ACK|EXCL|CREATE, seq 7
                    + "02180000" + "fe030001" + "04000000"                 // rtmsg: AF_INET /24, main, boot, universe, unicast, ONLINK
                    + "0800" + "0100" + "0af40200"                         // RTA_DST 10.244.2.0
                    + "0800" + "0500" + "0af40200"                         // RTA_GATEWAY 10.244.2.0
                    + "0800" + "0400" + "05000000");                       // RTA_OIF 5
            assertEquals(expected.length, len);
            assertArrayEquals(expected, s.asSlice(0, len).toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void stringAttributesArePaddedToFourBytes() {
        try (Arena arena = Arena.ofConfined()) {
            NetlinkRequest r = new NetlinkRequest(arena.allocate(64));
            r.start(Rtnl.RTM_GETLINK, 0).string(Rtnl.IFLA_IFNAME, "va");
            int len = r.finish(1);
            // 16 header + rtattr of 4 + "va\0" = 7, padded to 8.
            assertEquals(24, len);
            assertArrayEquals(HexFormat.of().parseHex("0700030076610000"), r.segment().asSlice(16, 8).toArray(ValueLayout.JAVA_BYTE));
            assertThrows(IllegalStateException.class, () -> r.string(Rtnl.IFLA_IFNAME, "x".repeat(64)));
        }
    }

    @Test
    void routesSayWhereToSendAndPrintAsIpDoes() {
        Ipv4Prefix p = Ipv4Prefix.parse("10.244.2.0/24");
        assertEquals("10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink", Route.onlink(p, Ipv4Address.parse("10.244.2.0"), "flannel.1").toString());
        assertEquals("10.244.2.0/24 via 192.0.2.2 dev eth0", Route.via(p, Ipv4Address.parse("192.0.2.2"), "eth0").toString());
        assertEquals("default via 192.0.2.1", new Route(Ipv4Prefix.parse("0.0.0.0/0"), Ipv4Address.parse("192.0.2.1"), null, false).toString());
        assertThrows(IllegalArgumentException.class, () -> new Route(p, 0, null, false));
        assertThrows(IllegalArgumentException.class, () -> new Route(p, 0, "eth0", true));
    }
}
