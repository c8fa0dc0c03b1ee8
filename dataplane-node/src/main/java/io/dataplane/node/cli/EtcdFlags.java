package io.dataplane.node.cli;

import io.dataplane.control.etcd.EtcdOptions;
import io.dataplane.core.config.ConfigException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import picocli.CommandLine.Option;

/**
 * {@code dataplane node}'s etcd options, with flanneld's names and defaults; each may also come
 * from flanneld's environment variable ({@code FLANNELD_ETCD_ENDPOINTS} for
 * {@code --etcd-endpoints}), the command line winning.
 */
final class EtcdFlags {
    @Option(names = "--etcd-endpoints", paramLabel = "URL[,URL...]", defaultValue = "${env:FLANNELD_ETCD_ENDPOINTS}",
            description = "Take the network, this node's subnet and its peers from flannel's keys in etcd (instead of --config DIR):"
                    + " its client URLs, comma-separated (env FLANNELD_ETCD_ENDPOINTS).")
    String endpoints;

    @Option(names = "--etcd-prefix", paramLabel = "PREFIX", defaultValue = "${env:FLANNELD_ETCD_PREFIX:-" + EtcdOptions.DEFAULT_PREFIX + "}",
            description = "The network's key prefix in etcd (default: ${DEFAULT-VALUE}).")
    String prefix;

    @Option(names = "--etcd-cafile", paramLabel = "FILE", defaultValue = "${env:FLANNELD_ETCD_CAFILE}",
            description = "The CA of etcd's server certificate (PEM).")
    Path caFile;

    @Option(names = "--etcd-certfile", paramLabel = "FILE", defaultValue = "${env:FLANNELD_ETCD_CERTFILE}",
            description = "This node's client certificate for etcd (PEM).")
    Path certFile;

    @Option(names = "--etcd-keyfile", paramLabel = "FILE", defaultValue = "${env:FLANNELD_ETCD_KEYFILE}",
            description = "The key of that certificate (PEM, PKCS#8).")
    Path keyFile;

    @Option(names = "--etcd-username", paramLabel = "USER", defaultValue = "${env:FLANNELD_ETCD_USERNAME}",
            description = "etcd user.")
    String username;

    @Option(names = "--etcd-password", paramLabel = "PASSWORD", defaultValue = "${env:FLANNELD_ETCD_PASSWORD}",
            description = "That user's password.")
    String password;

    @Option(names = "--subnet-file", paramLabel = "FILE", defaultValue = "${env:FLANNELD_SUBNET_FILE:-/run/flannel/subnet.env}",
            description = "Where to write subnet.env for the CNI plugin, and whose subnet to take again after a restart"
                    + " (default: ${DEFAULT-VALUE}).")
    Path subnetFile;

    @Option(names = "--subnet-lease-renew-margin", paramLabel = "MINUTES",
            defaultValue = "${env:FLANNELD_SUBNET_LEASE_RENEW_MARGIN:-60}",
            description = "Renew the 24 h lease this many minutes before it expires (default: ${DEFAULT-VALUE}).")
    int renewMarginMinutes;

    @Option(names = "--state-dir", paramLabel = "DIR", defaultValue = "${env:FLANNELD_STATE_DIR}",
            description = "Where the node keeps what survives a restart (vtep-mac, wgkey) in etcd mode"
                    + " (default: /run/dataplane/TUNNAME).")
    Path stateDir;

    /** True if etcd mode is asked for. */
    boolean given() {
        return endpoints != null && !endpoints.isBlank();
    }

    /** The options for {@code EtcdControlPlane}, checked; messages to {@code say}. */
    EtcdOptions options(Consumer<String> say) {
        List<URI> uris = new ArrayList<>();
        for (String e : endpoints.split(",")) {
            if (e.isBlank()) continue;
            try {
                uris.add(new URI(e.strip()));
            } catch (java.net.URISyntaxException bad) {
                throw new ConfigException("command line", "--etcd-endpoints", "not a URL: " + e.strip());
            }
        }
        try {
            return EtcdOptions.of(uris, say).withPrefix(prefix).withTls(caFile, certFile, keyFile).withUser(username, password)
                    .withLease(EtcdOptions.DEFAULT_LEASE_TTL, Duration.ofMinutes(renewMarginMinutes));
        } catch (ConfigException e) {
            throw new ConfigException("command line", "--" + e.field(), e.detail());
        }
    }
}
