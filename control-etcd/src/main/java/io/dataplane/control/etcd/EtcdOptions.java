package io.dataplane.control.etcd;

import io.dataplane.core.config.ConfigException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * How to reach etcd and how to keep a lease there, with flanneld's names and defaults.
 *
 * @param endpoints etcd's client URLs ({@code http://127.0.0.1:2379}; https with the TLS files)
 * @param prefix the key prefix of the network ({@code --etcd-prefix}, default {@value #DEFAULT_PREFIX})
 * @param caFile the CA that signs etcd's certificate, or null
 * @param certFile our client certificate (PEM), or null
 * @param keyFile our client key (PEM, PKCS#8), or null
 * @param username etcd user, or null for none
 * @param password that user's password, or null
 * @param renewMargin how long before expiry the lease is renewed (flanneld: 60 minutes)
 * @param leaseTtl the etcd lease a subnet key is attached to (flanneld: 24 hours)
 * @param say where the control plane's one-line messages go (lost and back, waiting for a config, ...)
 */
public record EtcdOptions(List<URI> endpoints, String prefix, Path caFile, Path certFile, Path keyFile, String username,
        String password, Duration renewMargin, Duration leaseTtl, Consumer<String> say) {

    /** flanneld's default key prefix. */
    public static final String DEFAULT_PREFIX = "/coreos.com/network";
    /** flanneld's lease time. */
    public static final Duration DEFAULT_LEASE_TTL = Duration.ofHours(24);
    /** flanneld's default renew margin. */
    public static final Duration DEFAULT_RENEW_MARGIN = Duration.ofMinutes(60);

    /** Checks the fields; throws {@link ConfigException} naming the option and the value. */
    public EtcdOptions {
        if (endpoints == null || endpoints.isEmpty()) throw new ConfigException(null, "etcd-endpoints", "missing");
        endpoints = List.copyOf(endpoints);
        for (URI u : endpoints) {
            if (u.getScheme() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https")) || u.getHost() == null
                    || u.getPort() < 0) {
                throw new ConfigException(null, "etcd-endpoints", "not an http(s)://HOST:PORT URL: " + u);
            }
        }
        if (prefix == null || !prefix.startsWith("/")) throw new ConfigException(null, "etcd-prefix", "must start with /: " + prefix);
        while (prefix.length() > 1 && prefix.endsWith("/")) prefix = prefix.substring(0, prefix.length() - 1);
        if ((certFile == null) != (keyFile == null)) {
            throw new ConfigException(null, certFile == null ? "etcd-certfile" : "etcd-keyfile", "the client certificate and key go together");
        }
        if (password != null && username == null) throw new ConfigException(null, "etcd-username", "missing: a password needs a user");
        if (leaseTtl == null || leaseTtl.toSeconds() < 5) throw new ConfigException(null, "leaseTtl", "at least 5 s: " + leaseTtl);
        if (renewMargin == null || renewMargin.isNegative() || renewMargin.compareTo(leaseTtl) >= 0) {
            throw new ConfigException(null, "subnet-lease-renew-margin", "must be shorter than the lease (" + leaseTtl.toMinutes()
                    + " min): " + (renewMargin == null ? null : renewMargin.toMinutes() + " min"));
        }
        if (say == null) throw new ConfigException(null, "say", "missing");
    }

    /** {@code endpoints} with every other option at flanneld's default, messages to {@code say}. */
    public static EtcdOptions of(List<URI> endpoints, Consumer<String> say) {
        return new EtcdOptions(endpoints, DEFAULT_PREFIX, null, null, null, null, null, DEFAULT_RENEW_MARGIN, DEFAULT_LEASE_TTL, say);
    }

    /** These options under another key prefix. */
    public EtcdOptions withPrefix(String prefix) {
        return new EtcdOptions(endpoints, prefix, caFile, certFile, keyFile, username, password, renewMargin, leaseTtl, say);
    }

    /** These options with TLS files (each may be null). */
    public EtcdOptions withTls(Path caFile, Path certFile, Path keyFile) {
        return new EtcdOptions(endpoints, prefix, caFile, certFile, keyFile, username, password, renewMargin, leaseTtl, say);
    }

    /** These options with a user and password. */
    public EtcdOptions withUser(String username, String password) {
        return new EtcdOptions(endpoints, prefix, caFile, certFile, keyFile, username, password, renewMargin, leaseTtl, say);
    }

    /** These options with another lease time and renew margin. */
    public EtcdOptions withLease(Duration leaseTtl, Duration renewMargin) {
        return new EtcdOptions(endpoints, prefix, caFile, certFile, keyFile, username, password, renewMargin, leaseTtl, say);
    }

    /** The key of the network's configuration: {@code <prefix>/config}. */
    public String configKey() {
        return prefix + "/config";
    }

    /** The prefix of the subnet keys: {@code <prefix>/subnets/}. */
    public String subnetsPrefix() {
        return prefix + "/subnets/";
    }

    /** The password masked: this string ends up in logs. */
    @Override
    public String toString() {
        return "EtcdOptions[endpoints=" + endpoints + ", prefix=" + prefix + ", caFile=" + caFile + ", certFile=" + certFile + ", keyFile="
                + keyFile + ", username=" + username + ", password=" + (password == null ? "none" : "(set)") + ", renewMargin="
                + renewMargin + ", leaseTtl=" + leaseTtl + "]";
    }
}
