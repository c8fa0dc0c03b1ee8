package io.dataplane.wireguard.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.stats.DropReason;
import io.dataplane.core.testing.Prerequisites;
import io.dataplane.wireguard.WireGuardOptions;
import io.dataplane.wireguard.WireGuardPeer;
import io.dataplane.wireguard.WireGuardTimings;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two of our nodes with the rekey interval shortened from 120 s to 1.5 s: while pings flow both
 * ways without a pause, the initiator rekeys several times, and not one ping is lost (the old
 * keypair keeps opening what was sealed with it, the responder switches on the first message under
 * the new one).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class WireGuardRekeyTest {
    @Test
    void trafficKeepsFlowingAcrossRekeys() throws Exception {
        Prerequisites.program("ping");
        WireGuardTimings fast = new WireGuardTimings(1L << 60, -1L - (1L << 13), Duration.ofMillis(1500).toNanos(),
                Duration.ofSeconds(30).toNanos(), Duration.ofSeconds(90).toNanos(), Duration.ofSeconds(1).toNanos(),
                Duration.ofMillis(100).toNanos(), Duration.ofSeconds(10).toNanos(), Duration.ofSeconds(120).toNanos(),
                Duration.ofMillis(20).toNanos(), Duration.ofSeconds(1).toNanos());
        WireGuardOptions options = WireGuardOptions.defaults().withTimings(fast);
        try (WgTestbed bed = WgTestbed.twoHosts()) {
            WgTestbed.Host a = bed.host(1);
            WgTestbed.Host b = bed.host(2);
            WgTestbed.OurNode nodeA = bed.startOurs(a, WgTestbed.netConf(null), options);
            WgTestbed.OurNode nodeB = bed.startOurs(b, WgTestbed.netConf(null), options);
            nodeA.backend.addPeer(nodeB.backend.localLease());
            nodeB.backend.addPeer(nodeA.backend.localLease());
            WgTraffic.Ping warm = WgTraffic.ping(a, b, 2, 0.2); // A initiates: A is the side that rekeys on time
            assertTrue(warm.received() >= 1, warm.output());
            WireGuardPeer peerOfA = nodeA.backend.encapsulation().peer(nodeB.backend.publicKey());
            WireGuardPeer peerOfB = nodeB.backend.encapsulation().peer(nodeA.backend.publicKey());

            int count = 140;
            Process ab = WgTraffic.pingFlow(bed, a, b, count, 0.05);
            Process ba = WgTraffic.pingFlow(bed, b, a, count, 0.05);
            Set<Long> handshakesA = new HashSet<>();
            Set<Long> handshakesB = new HashSet<>();
            while (ab.isAlive() || ba.isAlive()) {
                handshakesA.add(peerOfA.lastHandshakeEpochNanos());
                handshakesB.add(peerOfB.lastHandshakeEpochNanos());
                Thread.sleep(20);
            }
            WgTraffic.Ping pab = WgTraffic.finish(ab, 5);
            WgTraffic.Ping pba = WgTraffic.finish(ba, 5);
            System.out.printf("rekey test: %d and %d handshakes seen on A and B during %d pings each way%n", handshakesA.size(),
                    handshakesB.size(), count);
            assertTrue(handshakesA.size() >= 3, "A rekeyed at least twice during the flow: " + handshakesA.size() + " handshakes seen");
            assertTrue(handshakesB.size() >= 3, "B took part in those rekeys: " + handshakesB.size());
            assertEquals(List.of(), pab.unanswered(count), "no ping A -> B lost across the rekeys:\n" + pab.output());
            assertEquals(List.of(), pba.unanswered(count), "no ping B -> A lost across the rekeys:\n" + pba.output());
            for (WgTestbed.OurNode n : new WgTestbed.OurNode[] {nodeA, nodeB}) {
                assertEquals(0, n.stats().dropped(DropReason.WG_DECRYPT_FAILED), "nothing failed to open on " + n.host.name());
                assertEquals(0, n.stats().dropped(DropReason.WG_KEY_EXPIRED), "no expired session used on " + n.host.name());
                assertEquals(0, n.stats().dropped(DropReason.WG_UNKNOWN_RECEIVER), "no message for a dropped session on " + n.host.name());
            }
        }
    }
}
