package io.dataplane.core.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** flanneld's order: our PublicIP's lease, subnet.env's subnet, random among the first 100 free. */
class SubnetChoiceTest {
    private static final NetConf NET = NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"udp\"}}");
    private static final int US = Ipv4Address.parse("192.0.2.1");
    private static final int OTHER = Ipv4Address.parse("192.0.2.2");

    private static Map<Ipv4Prefix, Lease> leases(Lease... ls) {
        Map<Ipv4Prefix, Lease> m = new LinkedHashMap<>();
        for (Lease l : ls) m.put(l.subnet(), l);
        return m;
    }

    private static Lease udp(String subnet, int ip) {
        return Lease.of(Ipv4Prefix.parse(subnet), ip, BackendType.UDP);
    }

    @Test
    void ourPublicIpsLeaseIsOursAgain() {
        Lease ours = udp("10.244.9.0/24", US);
        Map<Ipv4Prefix, Lease> m = leases(udp("10.244.1.0/24", OTHER), ours);
        SubnetChoice c = SubnetChoice.choose(NET, US, m, m.keySet(), Ipv4Prefix.parse("10.244.5.0/24"), new SplittableRandom(1));
        assertEquals(ours.subnet(), c.subnet());
        assertSame(ours, c.existing());
    }

    @Test
    void ourLeaseThatNoLongerFitsIsStale() {
        // Outside SubnetMin..SubnetMax: the first subnet of the network is never handed out.
        Map<Ipv4Prefix, Lease> m = leases(udp("10.244.0.0/24", US));
        SubnetChoice c = SubnetChoice.choose(NET, US, m, m.keySet(), null, new SplittableRandom(1));
        assertEquals(List.of(Ipv4Prefix.parse("10.244.0.0/24")), c.stale());
        assertNull(c.existing());
        assertTrue(NET.isLeasable(c.subnet()));
    }

    @Test
    void subnetEnvsSubnetWhenFreeAndFitting() {
        Map<Ipv4Prefix, Lease> m = leases(udp("10.244.1.0/24", OTHER));
        assertEquals(Ipv4Prefix.parse("10.244.5.0/24"),
                SubnetChoice.choose(NET, US, m, m.keySet(), Ipv4Prefix.parse("10.244.5.0/24"), new SplittableRandom(1)).subnet());
        // Taken (by a key whose value does not even parse), or not of SubnetLen: a free one instead.
        Set<Ipv4Prefix> taken = new HashSet<>(m.keySet());
        taken.add(Ipv4Prefix.parse("10.244.5.0/24"));
        assertTrue(!Ipv4Prefix.parse("10.244.5.0/24").equals(
                SubnetChoice.choose(NET, US, m, taken, Ipv4Prefix.parse("10.244.5.0/24"), new SplittableRandom(1)).subnet()));
        assertTrue(!Ipv4Prefix.parse("10.244.5.0/25").equals(
                SubnetChoice.choose(NET, US, m, m.keySet(), Ipv4Prefix.parse("10.244.5.0/25"), new SplittableRandom(1)).subnet()));
    }

    @Test
    void randomAmongTheFirstHundredFree() {
        Map<Ipv4Prefix, Lease> m = leases(udp("10.244.1.0/24", OTHER), udp("10.244.3.0/24", OTHER));
        Set<Ipv4Prefix> seen = new HashSet<>();
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 2000; i++) {
            Ipv4Prefix s = SubnetChoice.choose(NET, US, m, m.keySet(), null, random).subnet();
            assertTrue(!m.containsKey(s) && NET.isLeasable(s), s.toString());
            seen.add(s);
        }
        // 10.244.2 and 4..102: the first hundred free from SubnetMin 10.244.1.0.
        assertEquals(100, seen.size());
        assertTrue(seen.contains(Ipv4Prefix.parse("10.244.2.0/24")) && seen.contains(Ipv4Prefix.parse("10.244.102.0/24")));
        assertTrue(!seen.contains(Ipv4Prefix.parse("10.244.103.0/24")));
    }

    @Test
    void noneFree() {
        NetConf small = NetConf.parse("{\"Network\": \"10.244.0.0/28\", \"Backend\": {\"Type\": \"udp\"}}");
        Map<Ipv4Prefix, Lease> m = leases(udp("10.244.0.4/30", OTHER), udp("10.244.0.8/30", OTHER), udp("10.244.0.12/30", OTHER));
        assertNull(SubnetChoice.choose(small, US, m, m.keySet(), null, new SplittableRandom(1)).subnet());
        // A wider foreign key overlapping everything takes it all too.
        assertNull(SubnetChoice.choose(small, US, Map.of(), Set.of(Ipv4Prefix.parse("10.244.0.0/28")), null, new SplittableRandom(1)).subnet());
    }
}
