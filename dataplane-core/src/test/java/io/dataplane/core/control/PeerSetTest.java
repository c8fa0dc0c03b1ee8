package io.dataplane.core.control;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dataplane.core.config.BackendType;
import io.dataplane.core.wire.Ipv4Prefix;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The peers from a store's keys: added, changed, removed, reconciled; bad input counted and said once. */
class PeerSetTest {
    private static final String P = "/coreos.com/network/subnets/";
    private final List<String> events = new ArrayList<>();
    private final List<String> said = new ArrayList<>();
    private final PeerSet peers = new PeerSet(BackendType.VXLAN, Ipv4Prefix.parse("10.244.1.0/24"),
            PeerEvents.of(l -> events.add("put " + l.subnet() + " " + l.vxlan().vtepMac()), s -> events.add("removed " + s)), said::add);

    private static byte[] vxlan(int n) {
        return ("{\"PublicIP\":\"192.0.2." + n + "\",\"PublicIPv6\":null,\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"0a:58:00:00:00:0"
                + n + "\"}}").getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void addChangeRemoveAndOwnSkipped() {
        peers.put(P + "10.244.2.0-24", vxlan(2));
        peers.put(P + "10.244.2.0-24", vxlan(2)); // the same again: nothing
        peers.put(P + "10.244.2.0-24", vxlan(3)); // changed attributes
        peers.put(P + "10.244.1.0-24", vxlan(1)); // our own
        peers.delete(P + "10.244.2.0-24");
        peers.delete(P + "10.244.9.0-24"); // never known
        assertEquals(List.of("put 10.244.2.0/24 0a:58:00:00:00:02", "put 10.244.2.0/24 0a:58:00:00:00:03", "removed 10.244.2.0/24"), events);
    }

    @Test
    void badKeysAndValuesAreCountedSaidOnceAndKeepKnownPeers() {
        peers.put(P + "10.244.2.0-24", vxlan(2));
        peers.put(P + "10.244.2.0-24", "{not json".getBytes(StandardCharsets.UTF_8));
        peers.put(P + "10.244.2.0-24", "{not json either".getBytes(StandardCharsets.UTF_8));
        peers.put(P + "garbage", "x".getBytes(StandardCharsets.UTF_8));
        peers.put(P + "10.244.4.0-24", "{\"PublicIP\":\"192.0.2.4\",\"BackendType\":\"host-gw\"}".getBytes(StandardCharsets.UTF_8));
        assertEquals(3, peers.unparsable());
        assertEquals(1, peers.otherBackend());
        assertEquals(2, said.size(), "once per key: " + said);
        assertEquals(List.of("put 10.244.2.0/24 0a:58:00:00:00:02"), events);
        assertEquals(1, peers.known().size());
    }

    @Test
    void reconcileAddsRemovesAndAppliesChanges() {
        peers.put(P + "10.244.2.0-24", vxlan(2));
        peers.put(P + "10.244.3.0-24", vxlan(3));
        peers.put(P + "10.244.5.0-24", vxlan(5));
        events.clear();
        Map<String, byte[]> listing = new LinkedHashMap<>();
        listing.put(P + "10.244.3.0-24", vxlan(7)); // changed
        listing.put(P + "10.244.4.0-24", vxlan(4)); // new
        listing.put(P + "10.244.5.0-24", "bad".getBytes(StandardCharsets.UTF_8)); // unparsable: kept
        peers.reconcile(listing);
        assertEquals(List.of("removed 10.244.2.0/24", "put 10.244.3.0/24 0a:58:00:00:00:07", "put 10.244.4.0/24 0a:58:00:00:00:04"), events);
        assertEquals(3, peers.known().size());
    }
}
