package io.dataplane.node.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.StringJoiner;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dataplane show --config DIR [--json]}: asks the node running with the state directory DIR
 * over its {@link ControlSocket} what it knows, and prints it in the shapes operators of flannel
 * know (the tables as {@code ip route}, {@code ip neigh} and {@code bridge fdb} print them):
 *
 * <pre>
 * node: vxlan, subnet 10.244.1.0/24 of 10.244.0.0/16, public IP 192.0.2.1 on eth0 (mtu 1500), TUN flannel.1 mtu 1450, port 8472
 *   vtep: VNI 1, MAC 6e:ad:8b:69:a8:0b
 *   offload: TCP (TSO from the TUN, UDP GSO, joined TUN writes): 12 super-packets sent, 340 segments joined
 *   control plane: files, /etc/dataplane/peers.json
 *   state: /etc/dataplane, pid 4242, up 1h 2m 3s (since 2026-12-06T09:11:37Z)
 * peers: 1
 *   10.244.2.0/24  public IP 192.0.2.2  VTEP MAC 02:00:0a:f4:02:00  endpoint 192.0.2.2:8472
 *     received 8 packets (960 B), 0 dropped, last 2026-12-06T10:13:40.120Z; sent 10 packets (1.21 KiB), 0 dropped, last 2026-12-06T10:13:40.118Z
 * ip route:
 *   10.244.0.0/16 dev flannel.1 scope link
 *   10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink
 * ip neigh:
 *   10.244.2.0 dev flannel.1 lladdr 02:00:0a:f4:02:00 PERMANENT
 * bridge fdb:
 *   02:00:0a:f4:02:00 dev flannel.1 dst 192.0.2.2 self permanent
 * traffic: egress 10 packets 1234 bytes, ingress 8 packets 960 bytes; packet buffers 96 of 248 in use
 * drops: no_route 1
 * </pre>
 *
 * A node with more than one TUN queue ({@code --queues}) adds, before the drops, how the traffic
 * spreads over them:
 * <pre>
 * queues: 0: egress 6, ingress 5 packets; 1: egress 4, ingress 3 packets
 * </pre>
 *
 * {@code --json} prints the node's answer as it is ({@link NodeView}). Without a node running
 * there, one line says so and the exit code is 1.
 */
@Command(name = "show", mixinStandardHelpOptions = true, versionProvider = Dataplane.Version.class, sortOptions = false,
        header = "Shows what a running node knows: itself, its peers, its tables, its drops.",
        description = {"", "Asks the node running with the state directory DIR (its --config DIR)",
                "over the owner-only socket DIR/" + ControlSocket.FILE_NAME + " and prints the node, its peers,",
                "its tables as ip route, ip neigh and bridge fdb print them for flannel's",
                "device, its traffic and its drops by reason. Without a node running there,",
                "one line says so (exit code 1).", ""})
final class ShowCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    private Where where;

    @Option(names = "--json", description = "Print the node's answer as JSON.")
    private boolean json;

    /** Which node: its state directory, by either name. */
    static final class Where {
        @Option(names = "--config", paramLabel = "DIR", description = "The node's --config DIR (where it keeps its state).")
        Path config;

        @Option(names = "--state-dir", paramLabel = "DIR", description = "The node's state directory.")
        Path stateDir;

        Path dir() {
            return stateDir != null ? stateDir : config;
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        String answer;
        try {
            answer = ControlSocket.ask(where.dir());
        } catch (ControlSocket.NoAnswer e) {
            spec.commandLine().getErr().println("dataplane show: " + e.getMessage());
            return Dataplane.EXIT_FAILURE;
        }
        JsonNode view;
        try {
            view = NodeView.JSON.readTree(answer);
        } catch (JsonProcessingException e) {
            spec.commandLine().getErr().println("dataplane show: the node at " + where.dir() + " answered what is not JSON: " + e.getOriginalMessage());
            return Dataplane.EXIT_FAILURE;
        }
        out.print(json ? NodeView.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(view) + "\n" : text(view));
        out.flush();
        return 0;
    }

    /** The node's answer as text (the class comment shows it). */
    static String text(JsonNode view) {
        StringBuilder sb = new StringBuilder();
        JsonNode n = view.path("node");
        String tun = n.path("tun").isTextual() ? n.path("tun").asText() : null;
        sb.append("node: ").append(n.path("backend").asText()).append(", subnet ").append(n.path("subnet").asText()).append(" of ")
                .append(n.path("network").asText()).append(", public IP ").append(n.path("publicIp").asText()).append(" on ")
                .append(n.path("interface").asText()).append(" (mtu ").append(n.path("underlayMtu").asInt()).append("), ")
                .append(tun != null ? "TUN " + tun + " mtu " + n.path("mtu").asInt() : "no TUN (host-gw: kernel routes)");
        if (n.has("port")) sb.append(", port ").append(n.path("port").asInt());
        sb.append('\n');
        if (n.has("vtepMac")) sb.append("  vtep: VNI ").append(n.path("vni").asInt()).append(", MAC ").append(n.path("vtepMac").asText()).append('\n');
        if (n.has("publicKey")) sb.append("  public key: ").append(n.path("publicKey").asText()).append('\n');
        if (n.path("directRouting").asBoolean()) sb.append("  direct routing: peers on the same link are routed by the kernel\n");
        if (tun != null) {
            JsonNode off = n.path("offload");
            sb.append("  offload: ").append(off.path("tcp").asBoolean()
                    ? "TCP (TSO from the TUN, UDP GSO, joined TUN writes): " + off.path("superPacketsSent").asLong() + " super-packets sent, "
                            + off.path("segmentsJoined").asLong() + " segments joined"
                    : "none (one packet per system call)").append('\n');
        }
        JsonNode cp = n.path("controlPlane");
        sb.append("  control plane: ").append(cp.path("type").asText()).append(", ").append(cp.path("source").asText());
        if (cp.path("leaseExpiry").isTextual()) sb.append(", lease expires ").append(cp.path("leaseExpiry").asText());
        sb.append('\n');
        sb.append("  state: ").append(n.path("stateDir").asText()).append(", pid ").append(n.path("pid").asLong()).append(", up ")
                .append(duration(n.path("uptimeSeconds").asLong())).append(" (since ").append(n.path("startedAt").asText()).append(")\n");

        JsonNode peers = view.path("peers");
        sb.append("peers: ").append(peers.isEmpty() ? "none" : String.valueOf(peers.size())).append('\n');
        for (JsonNode p : peers) {
            sb.append("  ").append(p.path("subnet").asText()).append("  public IP ").append(p.path("publicIp").asText());
            if (p.has("vtepMac")) sb.append("  VTEP MAC ").append(p.path("vtepMac").asText());
            if (p.has("publicKey")) sb.append("  public key ").append(p.path("publicKey").asText());
            sb.append("  endpoint ").append(p.path("endpoint").asText());
            if (p.has("rxBytes")) {
                sb.append("  latest handshake ").append(p.path("latestHandshake").isTextual() ? p.path("latestHandshake").asText() : "none")
                        .append("  transfer ").append(bytes(p.path("rxBytes").asLong())).append(" received, ")
                        .append(bytes(p.path("txBytes").asLong())).append(" sent");
            }
            sb.append('\n');
            if (p.has("received")) sb.append("    ").append(direction("received", p.path("received"))).append("; ")
                    .append(direction("sent", p.path("sent"))).append('\n');
        }

        sb.append("ip route:\n");
        for (JsonNode r : view.path("routes")) {
            sb.append("  ").append(r.path("dst").asText());
            if (r.has("gateway")) sb.append(" via ").append(r.path("gateway").asText());
            if (r.has("dev")) sb.append(" dev ").append(r.path("dev").asText());
            if (r.has("scope")) sb.append(" scope ").append(r.path("scope").asText());
            for (JsonNode f : r.path("flags")) sb.append(' ').append(f.asText());
            sb.append('\n');
        }
        if (n.path("backend").asText().equals("vxlan")) {
            sb.append("ip neigh:\n");
            for (JsonNode e : view.path("neighbors")) {
                sb.append("  ").append(e.path("dst").asText()).append(" dev ").append(e.path("dev").asText()).append(" lladdr ")
                        .append(e.path("lladdr").asText());
                for (JsonNode s : e.path("state")) sb.append(' ').append(s.asText());
                sb.append('\n');
            }
            sb.append("bridge fdb:\n");
            for (JsonNode e : view.path("fdb")) {
                sb.append("  ").append(e.path("mac").asText()).append(" dev ").append(e.path("ifname").asText()).append(" dst ")
                        .append(e.path("dst").asText());
                for (JsonNode f : e.path("flags")) sb.append(' ').append(f.asText());
                sb.append(' ').append(e.path("state").asText()).append('\n');
            }
        }

        JsonNode stats = view.path("stats");
        sb.append("traffic: egress ").append(stats.path("egress").path("packets").asLong()).append(" packets ")
                .append(stats.path("egress").path("bytes").asLong()).append(" bytes, ingress ").append(stats.path("ingress").path("packets").asLong())
                .append(" packets ").append(stats.path("ingress").path("bytes").asLong()).append(" bytes; packet buffers ")
                .append(stats.path("buffersInUse").asInt()).append(" of ").append(stats.path("buffers").asInt()).append(" in use\n");
        JsonNode queues = stats.path("queues");
        if (queues.size() > 1) {
            sb.append("queues:");
            for (int q = 0; q < queues.size(); q++) {
                JsonNode each = queues.get(q);
                sb.append(q == 0 ? " " : "; ").append(q).append(": egress ").append(each.path("egress").path("packets").asLong())
                        .append(", ingress ").append(each.path("ingress").path("packets").asLong()).append(" packets");
            }
            sb.append('\n');
        }
        StringJoiner drops = new StringJoiner(", ", "drops: ", "\n").setEmptyValue("drops: none\n");
        stats.path("drops").properties().forEach(e -> drops.add(e.getKey() + " " + e.getValue().asLong()));
        sb.append(drops);
        return sb.toString();
    }

    /** {@code received 8 packets (960 B), 0 dropped, last 2026-12-06T10:13:40.120Z} (or {@code last never}). */
    private static String direction(String name, JsonNode d) {
        return name + " " + d.path("packets").asLong() + " packets (" + bytes(d.path("bytes").asLong()) + "), " + d.path("drops").asLong()
                + " dropped, last " + (d.path("last").isTextual() ? d.path("last").asText() : "never");
    }

    /** {@code 1h 2m 3s}, {@code 2d 0h 5m 0s}, {@code 42s}. */
    static String duration(long seconds) {
        long d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60, s = seconds % 60;
        if (d > 0) return d + "d " + h + "h " + m + "m " + s + "s";
        if (h > 0) return h + "h " + m + "m " + s + "s";
        if (m > 0) return m + "m " + s + "s";
        return s + "s";
    }

    /** {@code 512 B}, {@code 1.50 KiB}, {@code 3.20 MiB}, as {@code wg show} prints transfer. */
    static String bytes(long n) {
        if (n < 1024) return n + " B";
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.2f %s", v, units[u]);
    }
}
