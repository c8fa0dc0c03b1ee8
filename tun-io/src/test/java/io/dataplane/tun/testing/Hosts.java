package io.dataplane.tun.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dataplane.core.testing.Prerequisites;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.TunDevice;
import io.dataplane.tun.netlink.Netlink;
import io.dataplane.tun.netns.NetNamespace;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The hosts of a root-only network test: network namespaces with unique names (other test runs on
 * the same machine build theirs at the same time), commands run in them ({@code ip -j}, ping), and
 * removal of everything on {@link #close}, also after a failure, and by {@link Leftovers} when the
 * JVM ends or is killed before that. A command whose program the machine lacks skips the test,
 * naming its Debian package ({@link Prerequisites#programOf}).
 */
public final class Hosts implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<NetNamespace> namespaces = new ArrayList<>();
    private final List<Leftovers.Hold> holds = new ArrayList<>();

    /**
     * Skips the calling test unless it runs as root on a machine with a usable TUN and iproute2,
     * saying why ({@link Prerequisites#require}: a failure where skips are).
     */
    public static void assumeRoot() {
        String user = System.getProperty("user.name");
        boolean root = "root".equals(user) || uid() == 0;
        Prerequisites.require(root, "not root (user " + user + "): network namespace and TUN tests need root");
        Prerequisites.require(TunDevice.isAvailable(), "TUN unavailable: " + TunDevice.unavailabilityCause());
        Prerequisites.program("ip");
    }

    private static int uid() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) return Integer.parseInt(line.split("\\s+")[2]);
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** {@code prefix} plus 6 random hex digits: unique enough for parallel runs, short enough for an interface (prefix up to 9). */
    public static String unique(String prefix) {
        byte[] r = new byte[3];
        ThreadLocalRandom.current().nextBytes(r);
        return prefix + HexFormat.of().formatHex(r);
    }

    /**
     * Creates a namespace named {@code prefix} plus a random suffix, with its loopback up; removed on
     * close, and held in {@link Leftovers} until then (removed also if the JVM is killed).
     */
    public NetNamespace namespace(String prefix) throws IOException {
        String name = unique(prefix);
        Leftovers.Hold hold = Leftovers.namespace(name);
        NetNamespace ns;
        try {
            ns = NetNamespace.create(name);
        } catch (IOException | RuntimeException e) {
            hold.release();
            throw e;
        }
        namespaces.add(ns);
        holds.add(hold);
        run("ip", "-n", ns.name(), "link", "set", "lo", "up");
        return ns;
    }

    /**
     * Joins namespaces {@code a} and {@code b} with a veth pair (kernel default offloads), {@code
     * addressA}/24 on a's end and {@code addressB}/24 on b's, both up; the pair goes with the namespaces.
     */
    public static void veth(NetNamespace a, int addressA, NetNamespace b, int addressB) throws Exception {
        String endA = unique("dpva");
        String endB = unique("dpvb");
        run("ip", "link", "add", endA, "netns", a.name(), "type", "veth", "peer", "name", endB, "netns", b.name());
        up(a, endA, addressA);
        up(b, endB, addressB);
    }

    private static void up(NetNamespace ns, String dev, int address) throws Exception {
        ns.run(() -> {
            try (Netlink nl = Netlink.open()) {
                nl.addAddress(dev, address, 24);
                nl.setUp(dev, true);
            }
        });
    }

    /** Runs a command (30 s at most), returns its standard output; throws with its output if it fails. */
    public static String run(String... command) throws IOException {
        Prerequisites.programOf(List.of(command));
        Process p = new ProcessBuilder(command).start();
        CompletableFuture<String> out = drain(p.getInputStream());
        CompletableFuture<String> err = drain(p.getErrorStream());
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + ": timed out after 30 s");
            }
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + ": exit " + p.exitValue() + "\n" + out.join() + err.join());
            }
            return out.join();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        }
    }

    /** Runs a command and returns its exit code and combined output, whatever the code. */
    public static Result runAnyway(String... command) throws IOException, InterruptedException {
        Prerequisites.programOf(List.of(command));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        CompletableFuture<String> out = drain(p.getInputStream());
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + ": timed out after 60 s");
        }
        return new Result(p.exitValue(), out.join());
    }

    /**
     * An iperf3 TCP run of {@code seconds} from {@code client} in {@code clientNs} to {@code server}
     * in {@code serverNs} ({@code reverse}: the server sends); returns the bits per second the
     * receiver got. The server is stopped by its PID if it is still running at the end.
     */
    public static double iperf3(NetNamespace clientNs, int client, NetNamespace serverNs, int server, int seconds, boolean reverse)
            throws IOException, InterruptedException {
        return iperf3(clientNs, client, serverNs, server, seconds, reverse, 1, 0);
    }

    /**
     * As {@link #iperf3(NetNamespace, int, NetNamespace, int, int, boolean)} with {@code streams}
     * parallel TCP connections ({@code -P}), from client ports {@code clientPort} upwards ({@code
     * --cport}; 0: ephemeral ones); returns their sum.
     */
    public static double iperf3(NetNamespace clientNs, int client, NetNamespace serverNs, int server, int seconds, boolean reverse,
            int streams, int clientPort) throws IOException, InterruptedException {
        return iperf3(clientNs, client, serverNs, server, seconds, reverse, streams, clientPort, 0);
    }

    /**
     * As {@link #iperf3(NetNamespace, int, NetNamespace, int, int, boolean, int, int)} with the
     * client's TCP maximum segment size set to {@code mss} ({@code -M}, which its SYN also
     * advertises, so both ways send segments no longer; 0: the path's).
     */
    public static double iperf3(NetNamespace clientNs, int client, NetNamespace serverNs, int server, int seconds, boolean reverse,
            int streams, int clientPort, int mss) throws IOException, InterruptedException {
        Prerequisites.programs("ip", "iperf3");
        String serverText = Ipv4Address.toString(server);
        Process srv = new ProcessBuilder("ip", "netns", "exec", serverNs.name(), "iperf3", "-s", "-1", "--forceflush", "-B", serverText)
                .redirectErrorStream(true).start();
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(srv.getInputStream(), StandardCharsets.UTF_8));
            CompletableFuture<Boolean> listening = CompletableFuture.supplyAsync(() -> {
                try {
                    for (String line; (line = lines.readLine()) != null; ) {
                        if (line.contains("Server listening")) return true;
                    }
                } catch (IOException e) {
                    return false;
                }
                return false;
            });
            try {
                if (!listening.get(10, TimeUnit.SECONDS)) throw new IOException("iperf3 server in " + serverNs.name() + " ended before listening");
            } catch (ExecutionException | TimeoutException e) {
                throw new IOException("iperf3 server in " + serverNs.name() + " did not listen within 10 s", e);
            }
            drain(srv.getInputStream());
            List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", clientNs.name(), "iperf3", "-c", serverText, "-B",
                    Ipv4Address.toString(client), "-t", String.valueOf(seconds), "-J", "--connect-timeout", "3000"));
            if (reverse) cmd.add("-R");
            if (streams > 1) cmd.addAll(List.of("-P", String.valueOf(streams)));
            if (clientPort != 0) cmd.addAll(List.of("--cport", String.valueOf(clientPort)));
            if (mss != 0) cmd.addAll(List.of("-M", String.valueOf(mss)));
            Result c = runAnyway(cmd.toArray(String[]::new));
            JsonNode result = JSON.readTree(c.output().substring(Math.max(0, c.output().indexOf('{'))));
            if (c.exitCode() != 0 || result.has("error")) throw new IOException("iperf3 failed: " + c.output());
            return result.get("end").get("sum_received").get("bits_per_second").asDouble();
        } finally {
            if (!srv.waitFor(5, TimeUnit.SECONDS)) {
                srv.destroy();
                if (!srv.waitFor(2, TimeUnit.SECONDS)) srv.destroyForcibly();
            }
        }
    }

    /** A finished command. */
    public record Result(int exitCode, String output) {}

    /** Runs a command that prints JSON ({@code ip -j ...}) and parses it. */
    public static JsonNode json(String... command) throws IOException {
        String out = run(command).trim();
        return JSON.readTree(out.isEmpty() ? "[]" : out);
    }

    private static CompletableFuture<String> drain(InputStream in) {
        CompletableFuture<String> f = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try (in) {
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                in.transferTo(b);
                f.complete(b.toString(StandardCharsets.UTF_8));
            } catch (IOException e) {
                f.complete("<output lost: " + e + ">");
            }
        });
        return f;
    }

    /** Deletes every namespace made here (their devices go with them). */
    @Override
    public void close() throws IOException {
        IOException first = null;
        for (int i = 0; i < namespaces.size(); i++) {
            try {
                namespaces.get(i).delete();
                holds.get(i).release();
            } catch (IOException e) {
                if (first == null) first = e;
            }
        }
        namespaces.clear();
        holds.clear();
        if (first != null) throw first;
    }
}
