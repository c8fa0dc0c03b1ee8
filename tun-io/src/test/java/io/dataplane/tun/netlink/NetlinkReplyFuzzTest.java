package io.dataplane.tun.netlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.tun.ErrnoException;
import io.dataplane.tun.sys.Errno;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Any datagram as a netlink reply (seeds: real replies of a namespace's link, address and route
 * dumps, a route lookup, an ENODEV and an EEXIST): {@link NetlinkSocket#replies} frames exactly
 * the messages a plain reference walk finds, ends the answer where it does, and throws only an
 * {@link ErrnoException} carrying the negated error of an NLMSG_ERROR (EPROTO when it has none).
 * Every message handed on is parsed by all four reply parsers with the segment cut at the
 * message's end, so a read past a message is an {@link IndexOutOfBoundsException}; what they return
 * is usable (prefix lengths 0-32).
 */
class NetlinkReplyFuzzTest {
    private static final ByteOrder HOST = ByteOrder.nativeOrder();

    /** What a reply datagram says: the messages for the request, and how the answer ends. */
    private record Walk(List<List<Long>> messages, boolean done, Integer errno) {}

    @FuzzTest
    void replies(FuzzedDataProvider data) {
        int seq = data.consumeInt(0, 3);
        byte[] bytes = data.consumeRemainingAsBytes();
        Walk expected = reference(bytes, seq);
        List<List<Long>> handed = new ArrayList<>();
        boolean done = false;
        Integer errno = null;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(Math.max(1, bytes.length), 8).asSlice(0, bytes.length);
            MemorySegment.copy(bytes, 0, buffer, ValueLayout.JAVA_BYTE, 0, bytes.length);
            try {
                done = NetlinkSocket.replies(buffer, bytes.length, seq, "fuzz", (type, s, payload, end) -> {
                    handed.add(List.of((long) type, payload, end));
                    parseAll(s.asSlice(0, end), payload, end);
                });
            } catch (ErrnoException e) {
                errno = e.errno();
                assertTrue(e.getMessage().startsWith("fuzz failed: errno="), e.getMessage());
            }
        }
        assertEquals(expected.messages(), handed, "messages handed to the handler");
        assertEquals(expected.errno(), errno, "errno");
        if (errno == null) assertEquals(expected.done(), done, "end of the answer");
    }

    private static void parseAll(MemorySegment s, long payload, long end) {
        Link link = Netlink.parseLink(s, payload, end, "fallback");
        if (link != null) link.toString();
        Address address = Netlink.parseAddress(s, payload, end);
        if (address != null) {
            assertTrue(address.prefixLength() >= 0 && address.prefixLength() <= 32);
            address.subnet();
            address.toString();
        }
        Netlink.DumpedRoute route = Netlink.parseRoute(s, payload, end);
        if (route != null) Ipv4Prefix.containing(route.destination(), route.length());
        RouteLookup lookup = Netlink.parseRouteLookup(0x0a000001, s, payload, end);
        if (lookup != null) {
            assertEquals(0x0a000001, lookup.destination());
            lookup.toString();
        }
    }

    /** The netlink framing rules (netlink(7)), walked over a ByteBuffer. */
    private static Walk reference(byte[] bytes, int seq) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(HOST);
        List<List<Long>> messages = new ArrayList<>();
        long at = 0;
        while (at + 16 <= bytes.length) {
            int len = b.getInt((int) at);
            if (len < 16 || at + len > bytes.length) break;
            int type = Short.toUnsignedInt(b.getShort((int) at + 4));
            int replySeq = b.getInt((int) at + 8);
            long payload = at + 16;
            long end = at + len;
            at += (len + 3L) & ~3L;
            if (replySeq != seq) continue;
            if (type == 3) return new Walk(messages, true, null);
            if (type == 2) {
                if (end - payload < 4) return new Walk(messages, false, Errno.EPROTO);
                int error = b.getInt((int) payload);
                return error == 0 ? new Walk(messages, true, null) : new Walk(messages, false, -error);
            }
            messages.add(List.of((long) type, payload, end));
        }
        return new Walk(messages, false, null);
    }
}
