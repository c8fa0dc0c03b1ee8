package io.dataplane.tun.netlink;

import static io.dataplane.tun.testing.Hosts.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.tun.netns.NetNamespace;
import io.dataplane.tun.testing.Hosts;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Link notifications as the kernel sends them, in a namespace of the test's own where {@code ip}
 * makes the changes; and the walk over a datagram's messages on made-up bytes.
 */
class LinkEventsTest {
    private Hosts hosts;
    private LinkEvents events;

    @AfterEach
    void tearDown() throws Exception {
        if (events != null) events.close();
        if (hosts != null) hosts.close();
    }

    @Test
    void anMtuSetByIpArrivesAsANotification() throws Exception {
        Hosts.assumeRoot();
        hosts = new Hosts();
        NetNamespace ns = hosts.namespace("dple");
        run("ip", "-n", ns.name(), "link", "add", "va", "type", "veth", "peer", "name", "vb");
        events = ns.call(LinkEvents::open);
        LinkedBlockingQueue<Link> seen = new LinkedBlockingQueue<>();
        CompletableFuture<Void> receiver = CompletableFuture.runAsync(() -> {
            try {
                while (events.await(new LinkEvents.Listener() {
                    @Override
                    public void onLink(Link link) {
                        seen.add(link);
                    }

                    @Override
                    public void onLost() {}
                })) {}
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        run("ip", "-n", ns.name(), "link", "set", "va", "mtu", "1400");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        Link found = null;
        while (found == null && System.nanoTime() < deadline) {
            Link link = seen.poll(100, TimeUnit.MILLISECONDS);
            if (link != null && "va".equals(link.name()) && link.mtu() == 1400) found = link;
        }
        assertTrue(found != null, "no RTM_NEWLINK for va with mtu 1400 within 5 s; saw " + seen);

        events.close();
        receiver.get(5, TimeUnit.SECONDS); // close wakes the waiting thread, and await says closed
        assertFalse(events.await(new LinkEvents.Listener() {
            @Override
            public void onLink(Link link) {}

            @Override
            public void onLost() {}
        }));
    }

    @Test
    void theWalkTakesEveryNewLinkAndStopsAtAnImpossibleLength() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(1024, 8);
            long at = 0;
            at = message(buffer, at, Rtnl.RTM_NEWLINK, 7, 1400);
            at = message(buffer, at, 3 /* NLMSG_DONE: skipped */, 0, 0);
            at = message(buffer, at, Rtnl.RTM_NEWLINK, 9, 9000);
            buffer.set(ValueLayout.JAVA_INT, at + Rtnl.NLMSG_LEN, 4096); // longer than the datagram
            long n = at + Rtnl.NLMSG_HDRLEN + Rtnl.IFINFOMSG.byteSize();
            List<String> got = new ArrayList<>();
            LinkEvents.links(buffer, n, new LinkEvents.Listener() {
                @Override
                public void onLink(Link link) {
                    got.add(link.index() + "/" + link.mtu());
                }

                @Override
                public void onLost() {}
            });
            assertEquals(List.of("7/1400", "9/9000"), got);
        }
    }

    // One message at `at`: an nlmsghdr, an ifinfomsg with `index`, an IFLA_MTU attribute; returns the next offset.
    private static long message(MemorySegment b, long at, int type, int index, int mtu) {
        int len = Rtnl.NLMSG_HDRLEN + (int) Rtnl.IFINFOMSG.byteSize() + 8;
        b.set(ValueLayout.JAVA_INT, at + Rtnl.NLMSG_LEN, len);
        b.set(ValueLayout.JAVA_SHORT, at + Rtnl.NLMSG_TYPE, (short) type);
        long ifi = at + Rtnl.NLMSG_HDRLEN;
        b.set(ValueLayout.JAVA_INT, ifi + Rtnl.IFI_INDEX, index);
        long attr = ifi + Rtnl.IFINFOMSG.byteSize();
        b.set(ValueLayout.JAVA_SHORT, attr + Rtnl.RTA_LEN, (short) 8);
        b.set(ValueLayout.JAVA_SHORT, attr + Rtnl.RTA_TYPE, (short) Rtnl.IFLA_MTU);
        b.set(ValueLayout.JAVA_INT, attr + Rtnl.RTA_HDRLEN, mtu);
        return at + NetlinkRequest.align(len);
    }
}
