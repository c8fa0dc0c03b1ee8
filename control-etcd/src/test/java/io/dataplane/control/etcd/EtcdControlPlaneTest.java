package io.dataplane.control.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dataplane.control.etcd.testing.EtcdProcess;
import io.dataplane.control.etcd.testing.TcpRelay;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.control.LeaseAttrs;
import io.dataplane.core.control.PeerEvents;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link EtcdControlPlane} against a real etcd on loopback (started by the test, its own data
 * directory and ports), read back and written behind its back with etcdctl, as flanneld's peers
 * and operators do.
 */
class EtcdControlPlaneTest {
    private static final String PREFIX = "/dptest/network";
    private static final String CONFIG = "{\"Network\": \"10.246.0.0/16\", \"Backend\": {\"Type\": \"vxlan\"}}";
    private static final Duration WAIT = Duration.ofSeconds(20);

    private EtcdProcess etcd;
    private final List<EtcdControlPlane> planes = new ArrayList<>();
    private final List<String> said = new CopyOnWriteArrayList<>();

    @BeforeEach
    void startEtcd() throws Exception {
        etcd = EtcdProcess.onLoopback();
    }

    @AfterEach
    void stopAll() throws Exception {
        try {
            for (EtcdControlPlane p : planes) p.close();
        } finally {
            if (etcd != null) etcd.close();
        }
    }

    private EtcdControlPlane plane(URI endpoint, Duration ttl, Duration margin) {
        EtcdOptions o = EtcdOptions.of(List.of(endpoint), line -> said.add(line)).withPrefix(PREFIX).withLease(ttl, margin);
        EtcdControlPlane p = EtcdControlPlane.connect(o);
        planes.add(p);
        return p;
    }

    private EtcdControlPlane plane() {
        return plane(etcd.endpoint(), EtcdOptions.DEFAULT_LEASE_TTL, EtcdOptions.DEFAULT_RENEW_MARGIN);
    }

    private static LeaseAttrs vxlan(int host) {
        return new LeaseAttrs(Ipv4Address.parse("192.0.2." + host), BackendType.VXLAN,
                "{\"VNI\":1,\"VtepMAC\":\"0a:58:00:00:00:" + String.format("%02x", host) + "\"}");
    }

    /** A peer lease as flanneld writes it. */
    private static String flannelValue(int host, String mac) {
        return "{\"PublicIP\":\"192.0.2." + host + "\",\"PublicIPv6\":null,\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,\"VtepMAC\":\""
                + mac + "\"}}";
    }

    @Test
    void waitsForAConfigThatChecksSayingSoInOneLineEach() throws Exception {
        EtcdControlPlane p = plane();
        ExecutorService ex = Executors.newSingleThreadExecutor();
        try {
            Future<NetConf> net = ex.submit(p::network);
            await(() -> said.stream().anyMatch(l -> l.startsWith("no network config at " + PREFIX + "/config yet (waiting); write one with: etcdctl put")), "no-config line");
            etcd.etcdctl("put", PREFIX + "/config", "{\"Network\": \"10.246.0.0/16\", \"SubnetLen\": 31, \"Backend\": {\"Type\": \"vxlan\"}}");
            await(() -> said.stream().anyMatch(l -> l.startsWith(PREFIX + "/config: SubnetLen: ") && l.contains("subnetLen=31")
                    && l.endsWith("(waiting for a config that checks)")), "bad-config line");
            Thread.sleep(2500);
            assertEquals(2, said.size(), "one line each while waiting, not one per poll: " + said);
            etcd.etcdctl("put", PREFIX + "/config", CONFIG);
            NetConf conf = net.get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(Ipv4Prefix.parse("10.246.0.0/16"), conf.network());
            assertEquals(24, conf.subnetLen(), "flanneld's default for a /16");
            assertEquals(Ipv4Prefix.parse("10.246.1.0/24"), conf.subnetMin());
            assertEquals(Ipv4Prefix.parse("10.246.255.0/24"), conf.subnetMax());
        } finally {
            ex.shutdownNow();
        }
    }

    @Test
    void threeNodesTakeDistinctSubnetsAsFlanneldWritesThem() throws Exception {
        etcd.etcdctl("put", PREFIX + "/config", CONFIG);
        Set<Ipv4Prefix> subnets = new HashSet<>();
        for (int host = 1; host <= 3; host++) {
            EtcdControlPlane p = plane();
            p.network();
            Lease lease = p.acquire(vxlan(host), null);
            assertTrue(subnets.add(lease.subnet()), "distinct: " + subnets + " + " + lease.subnet());
            String key = PREFIX + "/subnets/" + Ipv4Address.toString(lease.subnet().address()) + "-24";
            String value = etcd.etcdctl("get", key, "--print-value-only").strip();
            assertEquals(flannelValue(host, "0a:58:00:00:00:0" + host), value, "flanneld's bytes");
            assertTtlAboutADay(key);
        }
    }

    @Test
    void restartTakesTheSameSubnetAndADeletedKeyIsTakenAgain() throws Exception {
        etcd.etcdctl("put", PREFIX + "/config", CONFIG);
        EtcdControlPlane first = plane();
        first.network();
        Ipv4Prefix subnet = first.acquire(vxlan(1), null).subnet();
        first.close();
        EtcdControlPlane again = plane();
        again.network();
        assertEquals(subnet, again.acquire(vxlan(1), null).subnet(), "our PublicIP's lease is ours again");
        List<Lease> added = new CopyOnWriteArrayList<>();
        again.watch(PeerEvents.of(added::add, s -> {}));
        long leaseBefore = again.leaseId();

        String key = PREFIX + "/subnets/" + Ipv4Address.toString(subnet.address()) + "-24";
        etcd.etcdctl("del", key);
        await(() -> said.contains("our lease of " + subnet + " was deleted from etcd; taken again"), "taken-again line");
        assertEquals(flannelValue(1, "0a:58:00:00:00:01"), etcd.etcdctl("get", key, "--print-value-only").strip());
        assertNotEquals(leaseBefore, again.leaseId(), "a new etcd lease");
        assertTtlAboutADay(key);

        // Gone while the node was away: subnet.env's subnet is taken again if free.
        again.close();
        etcd.etcdctl("del", key);
        EtcdControlPlane third = plane();
        third.network();
        assertEquals(subnet, third.acquire(vxlan(1), subnet).subnet(), "subnet.env's subnet");
    }

    @Test
    void renewsWithANewLeaseBeforeExpiry() throws Exception {
        etcd.etcdctl("put", PREFIX + "/config", CONFIG);
        EtcdControlPlane p = plane(etcd.endpoint(), Duration.ofSeconds(5), Duration.ofSeconds(4)); // the shortest lease the options take
        p.network();
        Lease lease = p.acquire(vxlan(1), null);
        long first = p.leaseId();
        String key = PREFIX + "/subnets/" + Ipv4Address.toString(lease.subnet().address()) + "-24";
        await(() -> p.leaseId() != first, "renewed");
        Thread.sleep(6000); // past the first lease's expiry, by 2 s
        assertEquals(flannelValue(1, "0a:58:00:00:00:01"), etcd.etcdctl("get", key, "--print-value-only").strip(), "still there");
    }

    @Test
    void peersFollowTheStoreAndBadKeysHarmNothing() throws Exception {
        etcd.etcdctl("put", PREFIX + "/config", CONFIG);
        etcd.etcdctl("put", PREFIX + "/subnets/10.246.7.0-24", flannelValue(7, "0a:58:00:00:00:07"));
        EtcdControlPlane p = plane();
        p.network();
        // subnet.env's subnet, so that ours is none of the keys this test writes.
        Ipv4Prefix own = p.acquire(vxlan(1), Ipv4Prefix.parse("10.246.1.0/24")).subnet();
        assertEquals(Ipv4Prefix.parse("10.246.1.0/24"), own);
        Map<Ipv4Prefix, Lease> peers = new ConcurrentHashMap<>();
        p.watch(PeerEvents.of(l -> peers.put(l.subnet(), l), peers::remove));
        Ipv4Prefix seven = Ipv4Prefix.parse("10.246.7.0/24");
        await(() -> peers.containsKey(seven), "listed peer");
        assertTrue(!peers.containsKey(own), "own lease skipped");

        etcd.etcdctl("put", PREFIX + "/subnets/10.246.8.0-24", flannelValue(8, "0a:58:00:00:00:08"));
        Ipv4Prefix eight = Ipv4Prefix.parse("10.246.8.0/24");
        await(() -> peers.containsKey(eight), "watched peer added");
        etcd.etcdctl("put", PREFIX + "/subnets/10.246.8.0-24", flannelValue(18, "0a:58:00:00:00:18"));
        await(() -> peers.get(eight).publicIp() == Ipv4Address.parse("192.0.2.18"), "changed attributes applied");

        etcd.etcdctl("put", PREFIX + "/subnets/not-a-subnet", "hello");
        etcd.etcdctl("put", PREFIX + "/subnets/10.246.7.0-24", "{not json");
        etcd.etcdctl("put", PREFIX + "/subnets/10.246.9.0-24", "{\"PublicIP\":\"192.0.2.9\",\"BackendType\":\"host-gw\"}");
        await(() -> p.unparsable() == 2 && p.otherBackend() == 1, "counted: " + p.unparsable() + " " + p.otherBackend());
        assertTrue(peers.containsKey(seven), "a bad value keeps the known peer");
        assertEquals(2, peers.size(), "" + peers);
        assertEquals(1, said.stream().filter(l -> l.startsWith("skipping " + PREFIX + "/subnets/not-a-subnet")).count(), "" + said);

        etcd.etcdctl("del", PREFIX + "/subnets/10.246.8.0-24");
        await(() -> !peers.containsKey(eight), "removed");

        // Another writer on our own key: said, and never a peer.
        etcd.etcdctl("put", PREFIX + "/subnets/10.246.1.0-24", flannelValue(99, "0a:58:00:00:00:99"));
        await(() -> said.stream().anyMatch(l -> l.startsWith("another writer put {\"PublicIP\":\"192.0.2.99\"")
                && l.contains(" under our key " + PREFIX + "/subnets/10.246.1.0-24; this node keeps its subnet")), "another-writer line");
        assertTrue(!peers.containsKey(own), "own subnet never a peer");
    }

    @Test
    void aCompactionPastTheWatchIsReconciled() throws Exception {
        etcd.etcdctl("put", PREFIX + "/config", CONFIG);
        etcd.etcdctl("put", PREFIX + "/subnets/10.246.7.0-24", flannelValue(7, "0a:58:00:00:00:07"));
        etcd.etcdctl("put", PREFIX + "/subnets/10.246.8.0-24", flannelValue(8, "0a:58:00:00:00:08"));
        try (TcpRelay relay = new TcpRelay(etcd.endpoint())) {
            EtcdControlPlane p = plane(relay.endpoint(), EtcdOptions.DEFAULT_LEASE_TTL, EtcdOptions.DEFAULT_RENEW_MARGIN);
            p.network();
            p.acquire(vxlan(1), Ipv4Prefix.parse("10.246.1.0/24"));
            Map<Ipv4Prefix, Lease> peers = new ConcurrentHashMap<>();
            p.watch(PeerEvents.of(l -> peers.put(l.subnet(), l), peers::remove));
            await(() -> peers.size() == 2, "listed");

            relay.cut();
            await(() -> said.stream().anyMatch(l -> l.startsWith("lost etcd at " + relay.endpoint())), "lost line");
            // Behind the node's back: one removed, one changed, one added, then history compacted.
            etcd.etcdctl("del", PREFIX + "/subnets/10.246.7.0-24");
            etcd.etcdctl("put", PREFIX + "/subnets/10.246.8.0-24", flannelValue(18, "0a:58:00:00:00:18"));
            etcd.etcdctl("put", PREFIX + "/subnets/10.246.9.0-24", flannelValue(9, "0a:58:00:00:00:09"));
            String rev = new ObjectMapper().readTree(etcd.etcdctl("get", PREFIX + "/config", "-w", "json")).get("header").get("revision").asText();
            etcd.etcdctl("compact", rev);
            relay.join();

            await(() -> said.contains("etcd is back; listing the subnets again"), "back line");
            await(() -> peers.keySet().equals(Set.of(Ipv4Prefix.parse("10.246.8.0/24"), Ipv4Prefix.parse("10.246.9.0/24")))
                    && peers.get(Ipv4Prefix.parse("10.246.8.0/24")).publicIp() == Ipv4Address.parse("192.0.2.18"), "reconciled: " + peers);
            assertEquals(1, said.stream().filter(l -> l.startsWith("lost etcd")).count(), "one lost line: " + said);
            etcd.etcdctl("put", PREFIX + "/subnets/10.246.10.0-24", flannelValue(10, "0a:58:00:00:00:10"));
            await(() -> peers.containsKey(Ipv4Prefix.parse("10.246.10.0/24")), "watching again after the compaction");
        }
    }

    @Test
    void nodesRacingForFewFreeSubnetsEndDistinct() throws Exception {
        // A /28 of /30s: four subnets, the first skipped, so three to share.
        etcd.etcdctl("put", PREFIX + "/config", "{\"Network\": \"10.246.0.0/28\", \"Backend\": {\"Type\": \"vxlan\"}}");
        ExecutorService ex = Executors.newFixedThreadPool(3);
        try {
            List<Future<Lease>> leases = new ArrayList<>();
            for (int host = 1; host <= 3; host++) {
                EtcdControlPlane p = plane();
                LeaseAttrs attrs = vxlan(host);
                leases.add(ex.submit(() -> {
                    p.network();
                    return p.acquire(attrs, null);
                }));
            }
            Set<Ipv4Prefix> subnets = new HashSet<>();
            for (Future<Lease> f : leases) subnets.add(f.get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS).subnet());
            assertEquals(Set.of(Ipv4Prefix.parse("10.246.0.4/30"), Ipv4Prefix.parse("10.246.0.8/30"), Ipv4Prefix.parse("10.246.0.12/30")),
                    subnets);
        } finally {
            ex.shutdownNow();
        }
    }

    private void assertTtlAboutADay(String key) throws Exception {
        long[] ttl = etcd.leaseTtl(key);
        assertEquals(86400, ttl[0], "granted TTL of " + key);
        assertTrue(ttl[1] > 86300, "remaining TTL of " + key + ": " + ttl[1]);
    }

    private void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("not within " + WAIT + ": " + what + "\nsaid: " + said);
            Thread.sleep(50);
        }
    }
}
