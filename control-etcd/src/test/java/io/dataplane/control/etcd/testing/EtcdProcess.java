package io.dataplane.control.etcd.testing;


import io.dataplane.core.testing.Prerequisites;
import io.dataplane.tun.testing.Leftovers;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real etcd (Debian's etcd-server, 3.4) for a test: its own temporary data directory and free
 * ports, on loopback or on an address inside a network namespace the test made
 * ({@code ip netns exec NS etcd ...}). {@link #stop} and {@link #start} stop it by its PID and start
 * it again on the same data; {@link #close} stops it and removes the data directory, also after a
 * failure; {@link Leftovers} holds the process and the data meanwhile, for a JVM killed first.
 * {@link #etcdctl} runs Debian's etcdctl against it.
 */
public final class EtcdProcess implements AutoCloseable {
    private final String netns;
    private final String host;
    private final int clientPort;
    private final int peerPort;
    private final String name;
    private final Path dataDir;
    private final Path log;
    private final List<String> serverTls;
    private final List<String> clientArgs;
    private final List<Leftovers.Hold> fileHolds = new ArrayList<>();
    private Process process;
    private Leftovers.Hold processHold;

    private EtcdProcess(String netns, String host, int clientPort, int peerPort) throws IOException {
        this(netns, host, clientPort, peerPort, List.of(), List.of());
    }

    private EtcdProcess(String netns, String host, int clientPort, int peerPort, List<String> serverTls, List<String> clientArgs)
            throws IOException {
        this.serverTls = serverTls;
        this.clientArgs = new ArrayList<>(clientArgs);
        this.netns = netns;
        this.host = host;
        this.clientPort = clientPort;
        this.peerPort = peerPort;
        this.name = "dpetcd" + ProcessHandle.current().pid() + "x" + clientPort;
        this.dataDir = Files.createTempDirectory("dpetcd");
        this.log = dataDir.resolveSibling(dataDir.getFileName() + ".log");
        fileHolds.add(Leftovers.path(dataDir));
        fileHolds.add(Leftovers.path(log));
    }

    /** Skips the calling test unless etcd and etcdctl are installed, naming the Debian packages. */
    public static void assumeInstalled() {
        Prerequisites.programs("etcd", "etcdctl");
    }

    /** Starts an etcd on 127.0.0.1 with two free ports. */
    public static EtcdProcess onLoopback() throws IOException, InterruptedException {
        assumeInstalled();
        return started(new EtcdProcess(null, "127.0.0.1", freePort(), freePort()));
    }

    /**
     * Starts an etcd on 127.0.0.1 that serves TLS with {@code cert} and {@code key} and asks for a
     * client certificate signed by {@code ca}; etcdctl uses {@code clientCert} and {@code clientKey}.
     */
    public static EtcdProcess onLoopbackWithTls(Path ca, Path cert, Path key, Path clientCert, Path clientKey)
            throws IOException, InterruptedException {
        assumeInstalled();
        return started(new EtcdProcess(null, "127.0.0.1", freePort(), freePort(),
                List.of("--cert-file", cert.toString(), "--key-file", key.toString(), "--trusted-ca-file", ca.toString(), "--client-cert-auth"),
                List.of("--cacert", ca.toString(), "--cert", clientCert.toString(), "--key", clientKey.toString())));
    }

    /** Gives etcdctl {@code args} from now on (a user, once auth is enabled). */
    public void addEtcdctlArgs(String... args) {
        clientArgs.addAll(List.of(args));
    }

    /**
     * Starts an etcd inside network namespace {@code netns}, listening on {@code address} (an
     * address of that namespace), on etcd's usual ports: the namespace is the test's own.
     */
    public static EtcdProcess inNamespace(String netns, String address) throws IOException, InterruptedException {
        assumeInstalled();
        return started(new EtcdProcess(netns, address, 2379, 2380));
    }

    private static EtcdProcess started(EtcdProcess etcd) throws IOException, InterruptedException {
        try {
            etcd.start();
            return etcd;
        } catch (IOException | RuntimeException | Error | InterruptedException e) {
            etcd.close();
            throw e;
        }
    }

    /** The client URL: {@code http://127.0.0.1:PORT}. */
    public URI endpoint() {
        return URI.create((serverTls.isEmpty() ? "http://" : "https://") + host + ":" + clientPort);
    }

    /** Starts etcd (again) on its data directory and waits until it answers. */
    public synchronized void start() throws IOException, InterruptedException {
        if (process != null && process.isAlive()) return;
        String peer = "http://" + host + ":" + peerPort;
        List<String> cmd = command("etcd", "--name", name, "--data-dir", dataDir.toString(),
                "--listen-client-urls", endpoint().toString(), "--advertise-client-urls", endpoint().toString(),
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", name + "=" + peer,
                "--initial-cluster-state", "new", "--log-outputs", "stderr");
        cmd.addAll(serverTls);
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        processHold = Leftovers.process(process.toHandle());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            if (!process.isAlive()) throw new IOException("etcd ended at start: " + tail());
            if (answers()) return;
            if (System.nanoTime() > deadline) throw new IOException("etcd did not answer within 30 s: " + tail());
            Thread.sleep(100);
        }
    }

    /** Stops etcd by its PID (SIGTERM, then SIGKILL), keeping its data. */
    public synchronized void stop() throws InterruptedException {
        if (process == null) return;
        // ip netns exec execs etcd, so this PID is etcd's own.
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
        if (!process.isAlive()) processHold.release();
        process = null;
    }

    /**
     * Runs {@code etcdctl --endpoints URL ARGS} (v3 API) and returns its standard output.
     *
     * @throws IOException when it fails, with its output
     */
    public String etcdctl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("etcdctl", "--endpoints", endpoint().toString()));
        cmd.addAll(clientArgs);
        cmd.addAll(List.of(args));
        ProcessBuilder b = new ProcessBuilder(command(cmd.toArray(String[]::new))).redirectErrorStream(true);
        b.environment().put("ETCDCTL_API", "3");
        Process p = b.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("etcdctl " + String.join(" ", args) + ": no end within 20 s");
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) throw new IOException("etcdctl " + String.join(" ", args) + " failed: " + text);
        return text;
    }

    /**
     * The etcd lease {@code key} is attached to, as etcdctl reports it: {granted TTL, remaining TTL}
     * in seconds.
     */
    public long[] leaseTtl(String key) throws IOException, InterruptedException {
        Matcher lease = Pattern.compile("\"lease\":(\\d+)").matcher(etcdctl("get", key, "-w", "json"));
        if (!lease.find()) throw new IOException(key + " has no lease");
        String ttl = etcdctl("lease", "timetolive", Long.toHexString(Long.parseLong(lease.group(1))));
        Matcher m = Pattern.compile("granted with TTL\\((\\d+)s\\), remaining\\((\\d+)s\\)").matcher(ttl);
        if (!m.find()) throw new IOException("etcdctl lease timetolive: " + ttl);
        return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))};
    }

    /** etcd's log so far, its last lines. */
    public String tail() throws IOException {
        if (!Files.exists(log)) return "";
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    }

    @Override
    public void close() throws IOException, InterruptedException {
        try {
            stop();
        } finally {
            if (Files.exists(dataDir)) {
                try (var walk = Files.walk(dataDir)) {
                    for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(log);
            fileHolds.forEach(Leftovers.Hold::release);
        }
    }

    private boolean answers() {
        if (netns != null) {
            try {
                etcdctl("endpoint", "health");
                return true;
            } catch (IOException | InterruptedException e) {
                return false;
            }
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getByName(host), clientPort), 200);
            etcdctl("endpoint", "health");
            return true;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private List<String> command(String... args) {
        List<String> cmd = new ArrayList<>();
        if (netns != null) cmd.addAll(List.of("ip", "netns", "exec", netns));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }
}
