package io.dataplane.core.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.Lease;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The configuration directory's files behind the control-plane interface: subnet.env is the lease, peers.json the peers, polled. */
class FilesControlPlaneTest {
    @TempDir
    Path dir;

    private static String peer(int n) {
        return "{\"Subnet\": \"10.244." + n + ".0/24\", \"PublicIP\": \"192.0.2." + n + "\", \"BackendType\": \"udp\"}";
    }

    private void peers(String... leases) throws Exception {
        Path tmp = dir.resolve(".peers.tmp");
        Files.writeString(tmp, "[" + String.join(",", leases) + "]");
        Files.move(tmp, dir.resolve("peers.json"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    @Test
    void leaseFromSubnetEnvPeersFromPeersJsonAsTheyChange() throws Exception {
        Files.writeString(dir.resolve("net-conf.json"), "{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"udp\"}}");
        Files.writeString(dir.resolve("subnet.env"), "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\n");
        peers(peer(2), peer(3));
        List<String> events = new CopyOnWriteArrayList<>();
        List<String> said = new CopyOnWriteArrayList<>();
        try (FilesControlPlane files = new FilesControlPlane(dir, said::add)) {
            assertEquals(Ipv4Prefix.parse("10.244.0.0/16"), files.network().network());
            Lease ours = files.acquire(new LeaseAttrs(Ipv4Address.parse("192.0.2.1"), BackendType.UDP, null), null);
            assertEquals(Ipv4Prefix.parse("10.244.1.0/24"), ours.subnet());
            files.watch(PeerEvents.of(l -> events.add("put " + l.subnet()), s -> events.add("removed " + s)));
            assertEquals(List.of("put 10.244.2.0/24", "put 10.244.3.0/24"), events);

            peers(peer(3), peer(4));
            await(() -> events.size() == 4);
            assertEquals(List.of("removed 10.244.2.0/24", "put 10.244.4.0/24"), events.subList(2, 4));

            peers(peer(3), "{\"Subnet\": \"10.244.1.0/24\", \"PublicIP\": \"192.0.2.9\", \"BackendType\": \"udp\"}");
            await(() -> !said.isEmpty());
            assertTrue(said.get(0).contains("subnet overlaps this node's own") && said.get(0).endsWith("; keeping the 2 peers in use"), said.get(0));
            Thread.sleep(3 * FilesControlPlane.POLL_MILLIS);
            assertEquals(4, events.size(), "a file that does not check changes nothing: " + events);
            assertEquals(1, said.size(), "said once: " + said);
        }
    }

    private static void await(BooleanSupplier c) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("not within 10 s");
            Thread.sleep(20);
        }
    }
}
