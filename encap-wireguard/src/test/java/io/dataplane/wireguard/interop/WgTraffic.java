package io.dataplane.wireguard.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dataplane.tun.testing.Hosts;
import io.dataplane.tun.testing.PingReplies;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** ping and iperf3 between the pod addresses of a {@link WgTestbed}, their results parsed. */
final class WgTraffic {
    private static final Pattern SUMMARY = Pattern.compile("(\\d+) packets transmitted, (\\d+) received");
    private static final Pattern REPLY = Pattern.compile("icmp_seq=(\\d+) .*time=([0-9.]+) ms");
    private static final ObjectMapper JSON = new ObjectMapper();

    private WgTraffic() {}

    /** What a ping run saw. */
    record Ping(int transmitted, int received, List<Integer> seqs, String output) {
        /** The sequence numbers among the first {@code count} requests that got no reply ({@link PingReplies}). */
        List<Integer> unanswered(int count) {
            return PingReplies.unanswered(seqs, count);
        }
    }

    /**
     * {@code count} pings from {@code from}'s pod address to {@code to}'s, {@code interval} seconds
     * apart, that wait for their replies up to 10 s past the last request ({@link #pingCommand}).
     */
    static Ping ping(WgTestbed.Host from, WgTestbed.Host to, int count, double interval) throws IOException, InterruptedException {
        return parse(Hosts.runAnyway(from.exec(pingCommand(from, to, count, interval))).output());
    }

    /** ping with a deadline ({@code -w}), as {@link PingReplies} says why: it ends once {@code count} replies came. */
    private static String[] pingCommand(WgTestbed.Host from, WgTestbed.Host to, int count, double interval) {
        long deadline = (long) Math.ceil(count * interval) + 10;
        return new String[] {"ping", "-n", "-c", String.valueOf(count), "-i", String.format(Locale.ROOT, "%.3f", interval), "-w",
                String.valueOf(deadline), "-I", from.pod(), to.pod()};
    }

    static Ping parse(String out) {
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

    /** A ping flow started in the background (stopped with the testbed, or read with {@link #finish}). */
    static Process pingFlow(WgTestbed bed, WgTestbed.Host from, WgTestbed.Host to, int count, double interval) throws IOException {
        return bed.startProcess(from, pingCommand(from, to, count, interval));
    }

    /** Waits for a background ping to end and parses what it printed. */
    static Ping finish(Process ping, long seconds) throws IOException, InterruptedException {
        if (!ping.waitFor(seconds, TimeUnit.SECONDS)) throw new AssertionError("ping did not finish within " + seconds + " s");
        return parse(new String(ping.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    /**
     * An iperf3 TCP run of {@code seconds} from {@code client}'s pod address to {@code server}'s
     * ({@code reverse}: the server sends); returns the bits per second the receiver got.
     */
    static double iperf3(WgTestbed bed, WgTestbed.Host client, WgTestbed.Host server, int seconds, boolean reverse)
            throws IOException, InterruptedException {
        Process srv = bed.startProcess(server, "iperf3", "-s", "-1", "--forceflush", "-B", server.pod());
        byte[] buf = new byte[256];
        StringBuilder seen = new StringBuilder();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!seen.toString().contains("Server listening") && System.nanoTime() < deadline) {
            int n = srv.getInputStream().read(buf);
            if (n < 0) break;
            seen.append(new String(buf, 0, n, StandardCharsets.UTF_8));
        }
        List<String> cmd = new ArrayList<>(List.of("iperf3", "-c", server.pod(), "-B", client.pod(), "-t", String.valueOf(seconds), "-J",
                "--connect-timeout", "3000"));
        if (reverse) cmd.add("-R");
        Hosts.Result c = Hosts.runAnyway(client.exec(cmd.toArray(String[]::new)));
        srv.waitFor(5, TimeUnit.SECONDS);
        JsonNode result = JSON.readTree(c.output().substring(Math.max(0, c.output().indexOf('{'))));
        if (c.exitCode() != 0 || result.has("error")) throw new AssertionError("iperf3 failed:\n" + c.output());
        return result.get("end").get("sum_received").get("bits_per_second").asDouble();
    }
}
