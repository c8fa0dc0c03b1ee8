package io.dataplane.node.cli;

import io.dataplane.node.OverlayNode;
import io.dataplane.tun.ErrnoException;
import io.dataplane.tun.netlink.Link;
import io.dataplane.tun.netlink.Netlink;
import io.dataplane.tun.sys.Errno;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Whether the node is ready to carry pod traffic, as {@code /readyz} reports it: named checks, each
 * holding or failing with a reason, in the form Kubernetes' own {@code /readyz?verbose} prints:
 *
 * <pre>
 * [+]device ok
 * [+]packet-path ok
 * [-]peers failed: not loaded yet
 * readyz check failed
 * </pre>
 *
 * Two kinds of check. One is asked when a request comes ({@link #add}): the TUN device is up, the
 * packet path runs. The other is a {@link Gate} that the part of the node that knows opens and
 * closes: the peers are loaded once the first peers.json (or the first listing of a store) has
 * been applied. A control plane that holds a lease in a store adds a check once the lease is held
 * and subnet.env written, which fails when the lease has expired unrenewed; the files control plane
 * has no such check.
 */
final class Readiness {
    /** A check asked when a request comes. */
    @FunctionalInterface
    interface Check {
        /** Null when the condition holds, else what is wrong. */
        String problem();
    }

    /** A condition that another part of the node opens when it holds and closes when it no longer does. */
    static final class Gate implements Check {
        private volatile String problem;

        private Gate(String problem) {
            this.problem = problem;
        }

        /** The condition holds. */
        void open() {
            problem = null;
        }

        /** The condition does not hold, because of {@code why}. */
        void close(String why) {
            problem = why;
        }

        @Override
        public String problem() {
            return problem;
        }
    }

    /** One check's outcome. */
    record Result(String name, String problem) {
        /** {@code [+]name ok} or {@code [-]name failed: problem}. */
        String line() {
            return problem == null ? "[+]" + name + " ok" : "[-]" + name + " failed: " + problem;
        }
    }

    private final Map<String, Check> checks = new LinkedHashMap<>();

    /**
     * The checks of a running node: its device is up (the TUN; for host-gw the interface of the
     * public IP) and its packet path runs.
     */
    static Readiness of(OverlayNode node) {
        Readiness r = new Readiness();
        String device = node.tunName() != null ? node.tunName() : node.underlayInterface();
        r.add("device", () -> linkProblem(device));
        r.add("packet-path", () -> node.isRunning() ? null
                : "stopped" + (node.failure() != null ? ": " + Problem.of(node.failure()).line() : ""));
        return r;
    }

    /** Adds a check asked at every request, after those already there. */
    synchronized void add(String name, Check check) {
        if (checks.putIfAbsent(name, check) != null) throw new IllegalArgumentException("readiness check already there: " + name);
    }

    /** Adds a gate, closed with {@code problem} until opened. */
    Gate gate(String name, String problem) {
        Gate gate = new Gate(problem);
        add(name, gate);
        return gate;
    }

    /** Every check now, in the order added. */
    List<Result> results() {
        List<Map.Entry<String, Check>> now;
        synchronized (this) {
            now = List.copyOf(checks.entrySet());
        }
        List<Result> results = new ArrayList<>(now.size());
        for (Map.Entry<String, Check> e : now) {
            String problem;
            try {
                problem = e.getValue().problem();
            } catch (RuntimeException failed) {
                problem = "check failed: " + failed;
            }
            results.add(new Result(e.getKey(), problem));
        }
        return results;
    }

    /** True when every result holds. */
    static boolean ready(List<Result> results) {
        return results.stream().allMatch(r -> r.problem() == null);
    }

    /** The text of {@code /readyz}: a line per check, then {@code readyz check passed} or {@code failed}. */
    static String text(List<Result> results) {
        StringBuilder sb = new StringBuilder();
        for (Result r : results) sb.append(r.line()).append('\n');
        return sb.append("readyz check ").append(ready(results) ? "passed" : "failed").append('\n').toString();
    }

    // The link's state as rtnetlink reports it, asked in the namespace of the calling thread (the node's, in the CLI).
    private static String linkProblem(String device) {
        try (Netlink netlink = Netlink.open()) {
            Link link = netlink.link(device);
            return link.up() ? null : device + " is down";
        } catch (ErrnoException e) {
            return e.errno() == Errno.ENODEV ? device + " does not exist" : "cannot read " + device + ": " + e.getMessage();
        } catch (IOException e) {
            return "cannot read " + device + ": " + e.getMessage();
        }
    }
}
