package io.dataplane.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.tun.testing.Hosts;
import io.dataplane.tun.testing.PingReplies;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** ping and iperf3 between pod addresses of a {@link Testbed}, with their results parsed. */
final class Traffic {
    private static final Pattern SUMMARY = Pattern.compile("(\\d+) packets transmitted, (\\d+) received");
    private static final Pattern REPLY = Pattern.compile("icmp_seq=(\\d+) .*time=([0-9.]+) ms");

    private Traffic() {}

    /** What a ping run saw. */
    record Ping(int transmitted, int received, List<Integer> answeredSeqs, String output) {
        /** The sequence numbers among the first {@code count} requests that got no reply ({@link PingReplies}). */
        List<Integer> unanswered(int count) {
            return PingReplies.unanswered(answeredSeqs, count);
        }
    }

    /** {@code count} pings from {@code from}'s pod address to {@code to}'s, {@code interval} seconds apart. */
    static Ping ping(Testbed.Host from, Testbed.Host to, int count, double interval) throws IOException, InterruptedException {
        return ping(from, to, count, interval, 3);
    }

    /**
     * Two pings 0.2 s apart that must go unanswered (a removed peer): ping waits a second for the
     * last reply, as for the no-route pings of BadInputTest, where a reply through a veth takes a
     * millisecond.
     */
    static Ping pingUnanswered(Testbed.Host from, Testbed.Host to) throws IOException, InterruptedException {
        return ping(from, to, 2, 0.2, 1);
    }

    private static Ping ping(Testbed.Host from, Testbed.Host to, int count, double interval, int waitSeconds)
            throws IOException, InterruptedException {
        Tool t = Tool.run(Duration.ofSeconds(10 + (long) (count * interval * 2)), from.exec("ping", "-n", "-c", String.valueOf(count),
                "-i", String.format(Locale.ROOT, "%.3f", interval), "-W", String.valueOf(waitSeconds), "-I", from.podText(), to.podText()));
        return parsePing(t.stdout());
    }

    /** Parses ping's output: the summary line and the sequence numbers of the replies. */
    static Ping parsePing(String out) {
        Matcher m = SUMMARY.matcher(out);
        int tx = 0;
        int rx = 0;
        if (m.find()) {
            tx = Integer.parseInt(m.group(1));
            rx = Integer.parseInt(m.group(2));
        }
        List<Integer> seqs = new ArrayList<>();
        Matcher r = REPLY.matcher(out);
        while (r.find()) seqs.add(Integer.parseInt(r.group(1)));
        return new Ping(tx, rx, seqs, out);
    }

    /** A reply of {@code ping -D}: {@code [1733480000.123456] 64 bytes from ...}. */
    private static final Pattern STAMPED_REPLY = Pattern.compile("^\\[(\\d+)\\.(\\d{6})\\] \\d+ bytes from", Pattern.MULTILINE);

    /** The epoch milliseconds of every reply in {@code ping -D}'s output. */
    static List<Long> replyTimes(String out) {
        List<Long> at = new ArrayList<>();
        Matcher m = STAMPED_REPLY.matcher(out);
        while (m.find()) at.add(Long.parseLong(m.group(1)) * 1000 + Long.parseLong(m.group(2)) / 1000);
        return at;
    }

    /**
     * Waits until {@code pings} ({@code ping -D}) printed a reply stamped after {@code afterMillis}
     * (epoch) and returns that stamp in epoch milliseconds; 0 when none came within {@code max}.
     */
    static long firstReplyAfter(Tool pings, long afterMillis, Duration max) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < deadline) {
            for (long at : replyTimes(pings.stdout())) {
                if (at > afterMillis) return at;
            }
            if (!pings.isAlive()) return 0;
            Thread.sleep(20);
        }
        return 0;
    }

    /** Pings and asserts every one was answered. */
    static void assertPings(Testbed.Host from, Testbed.Host to, int count) throws IOException, InterruptedException {
        // -w: ping sends until count requests are answered or the deadline passes. Without it, once a reply
        // came, ping waits two round trips after its last request and counts a later reply as lost: at 1 ms
        // round trips, a packet thread that a loaded machine leaves without a CPU for a few ms. With it, ping
        // may send more than count while replies lag (a first WireGuard handshake): the first count requests
        // must all be answered.
        int deadline = 10;
        Tool t = Tool.run(Duration.ofSeconds(deadline + 5), from.exec("ping", "-n", "-c", String.valueOf(count), "-i", "0.050",
                "-w", String.valueOf(deadline), "-I", from.podText(), to.podText()));
        Ping p = parsePing(t.stdout());
        assertEquals(List.of(), p.unanswered(count), "ping " + from.podText() + " -> " + to.podText() + ": requests of " + count
                + " not answered within " + deadline + " s\n" + p.output());
    }

    /**
     * An iperf3 TCP run of {@code seconds} from {@code client}'s pod address to {@code server}'s
     * ({@code reverse}: the server sends); returns the bits per second the receiver got.
     */
    static double iperf3(Testbed.Host client, Testbed.Host server, int seconds, boolean reverse) throws IOException, InterruptedException {
        return Hosts.iperf3(client.ns(), client.pod(), server.ns(), server.pod(), seconds, reverse);
    }

    /**
     * Seconds of each iperf3 TCP run that only has to show a stream gets through (over 10 Mbit/s,
     * super-packets sent and joined, every queue used): one second moves hundreds of thousands of
     * segments through a node, the figure is for reading, and speed is measured in benchmarks.
     */
    static final int TCP_SECONDS = 1;

    /**
     * iperf3 TCP for {@link #TCP_SECONDS} from {@code a}'s pod to {@code b}'s and back, printed as
     * {@code label} (the machine is shared and noisy: the figure is for reading); each way must carry
     * over 10 Mbit/s.
     */
    static void assertTcpBothWays(Testbed bed, Testbed.Host a, Testbed.Host b, String label) throws IOException, InterruptedException {
        assertTcpBothWays(bed, a, b, label, TCP_SECONDS);
    }

    /**
     * As {@link #assertTcpBothWays(Testbed, Testbed.Host, Testbed.Host, String)} for {@code seconds}:
     * wireguard-go's first second on a loaded machine may carry less than 10 Mbit/s, and 3 s do not.
     */
    static void assertTcpBothWays(Testbed bed, Testbed.Host a, Testbed.Host b, String label, int seconds)
            throws IOException, InterruptedException {
        double ab = iperf3(a, b, seconds, false);
        double ba = iperf3(a, b, seconds, true);
        System.out.printf("%s, TCP %d s: a -> b %.0f Mbit/s, b -> a %.0f Mbit/s (noisy shared machine)%n", label, seconds, ab / 1e6,
                ba / 1e6);
        assertTrue(ab > 10e6, "TCP a -> b: " + ab + " bit/s");
        assertTrue(ba > 10e6, "TCP b -> a: " + ba + " bit/s");
    }

    /** After TCP with offload on (the default): each node sent TSO super-packets whole and wrote received segments joined into its TUN. */
    static void assertOffloadCarried(List<OverlayNode> nodes) {
        for (OverlayNode n : nodes) {
            assertTrue(n.superPacketsSent() > 0, "no TSO super-packet sent by " + n);
            assertTrue(n.segmentsJoined() > 0, "no received segments joined by " + n);
        }
    }
}
