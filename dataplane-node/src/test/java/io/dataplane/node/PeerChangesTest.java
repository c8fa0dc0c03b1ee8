package io.dataplane.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.stats.DropReason;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Three of our nodes on one bridge, each the others' peer. While host 1 pings hosts 2 and 3, its
 * node removes host 2's lease and adds it back: the pings to host 2 stop being answered in
 * between, those to host 3 all are.
 */
class PeerChangesTest {
    private static final Pattern REPLY = Pattern.compile("^\\[(\\d+\\.\\d+)\\] \\d+ bytes from .*icmp_seq=(\\d+)", Pattern.MULTILINE);
    private static final int PINGS = 200;
    private static final double INTERVAL = 0.02;

    @ParameterizedTest
    @ValueSource(strings = {"udp", "vxlan"})
    void removedPeerIsUnreachableWhileTheOthersStayReachable(String backend) throws Exception {
        NetConf net = NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"" + backend + "\"}}");
        try (Testbed bed = Testbed.hosts(3); LogWatch log = new LogWatch()) {
            List<OverlayNode> nodes = new ArrayList<>();
            for (int i = 1; i <= 3; i++) nodes.add(bed.start(bed.host(i), bed.config(bed.host(i), net)));
            for (OverlayNode n : nodes) {
                for (OverlayNode peer : nodes) if (peer != n) n.addPeer(peer.localLease());
            }
            Testbed.Host h1 = bed.host(1);
            Testbed.Host h2 = bed.host(2);
            Testbed.Host h3 = bed.host(3);
            OverlayNode node1 = nodes.get(0);
            Lease lease2 = nodes.get(1).localLease();
            Traffic.assertPings(h1, h2, 3);
            Traffic.assertPings(h1, h3, 3);

            Tool to2 = bed.startTool(h1, ping(h1, h2, "-W", "3"));
            // -w: every request to the peer that stays must be answered, the last one too however late (see PingReplies).
            Tool to3 = bed.startTool(h1, ping(h1, h3, "-w", "30"));
            // Host 2 answers 25 pings before its removal, however long a loaded machine takes to start ping.
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (REPLY.matcher(to2.stdout()).results().count() < 25 && System.nanoTime() < deadline) Thread.sleep(20);
            double removed = now();
            node1.removePeer(h2.subnet());
            Thread.sleep(1500);
            double added = now();
            node1.addPeer(lease2);
            long noRoute = node1.stats().dropped(DropReason.NO_ROUTE);
            assertTrue(to2.await(Duration.ofSeconds(20)), to2.output());
            assertTrue(to3.await(Duration.ofSeconds(40)), to3.output());

            assertEquals(List.of(), Traffic.parsePing(to3.stdout()).unanswered(PINGS), "pings to the peer that stayed:\n" + to3.output());
            List<Double> replies = new ArrayList<>();
            Matcher m = REPLY.matcher(to2.stdout());
            while (m.find()) replies.add(Double.parseDouble(m.group(1)));
            // A reply already on its way back when the route went may arrive a moment later (on a
            // loaded machine round trips of 100+ ms happen).
            long during = replies.stream().filter(t -> t > removed + 0.5 && t < added).count();
            long before = replies.stream().filter(t -> t < removed).count();
            long after = replies.stream().filter(t -> t > added).count();
            String detail = backend + ": removed at " + removed + ", added at " + added + "\n" + to2.output();
            assertEquals(0, during, "replies from the removed peer:\n" + detail);
            assertTrue(before >= 20, "replies before the removal: " + before + "\n" + detail);
            assertTrue(after >= 20, "replies after the peer came back: " + after + "\n" + detail);
            if (backend.equals("vxlan")) {
                // The requests to the removed peer stopped at the route lookup.
                assertTrue(noRoute >= 20, "NO_ROUTE drops while the peer was away: " + node1.stats());
            }
            for (OverlayNode n : nodes) {
                n.close();
                assertEquals(0, n.buffersInUse(), "buffers still out after close");
            }
            assertEquals(List.of(), log.problems());
        }
    }

    /** {@link #PINGS} stamped pings {@link #INTERVAL} apart, with {@code wait} ({@code -W} or {@code -w} and its seconds). */
    private static String[] ping(Testbed.Host from, Testbed.Host to, String... wait) {
        List<String> cmd = new ArrayList<>(List.of("ping", "-D", "-n", "-c", String.valueOf(PINGS), "-i", String.valueOf(INTERVAL)));
        cmd.addAll(List.of(wait));
        cmd.addAll(List.of("-I", from.podText(), to.podText()));
        return cmd.toArray(String[]::new);
    }

    private static double now() {
        return System.currentTimeMillis() / 1000.0;
    }
}
