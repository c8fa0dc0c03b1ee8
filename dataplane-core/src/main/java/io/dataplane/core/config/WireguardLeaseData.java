package io.dataplane.core.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * The BackendData of a wireguard lease: the peer's public key and the UDP port it listens on.
 *
 * <pre>{@code {"PublicKey": "Ymc3...=", "Port": 51820}}</pre>
 *
 * @param publicKey the peer's Curve25519 public key, base64 as wg(8) prints it
 * @param port the peer's listen port; 0 when the lease has none (older flanneld versions wrote no
 *     port, and flanneld then assumes the peer listens where this node does)
 */
public record WireguardLeaseData(String publicKey, int port) {
    private static final List<String> FIELDS = List.of("PublicKey", "Port");

    /** Checks the key's form and the port's range. */
    public WireguardLeaseData {
        if (publicKey == null) throw new ConfigException(null, "BackendData.PublicKey", "missing");
        if (!BackendConf.isWireguardKey(publicKey)) {
            throw new ConfigException(null, "BackendData.PublicKey", "not a WireGuard key: " + JsonFields.show(publicKey)
                    + " (expected 44 characters of base64, 32 bytes)");
        }
        if (port < 0 || port > 65535) {
            throw new ConfigException(null, "BackendData.Port", "Port out of range: port=" + port + " (1-65535, or 0 for ours)");
        }
    }

    static WireguardLeaseData fromJson(JsonFields j) {
        j.rejectTypos(FIELDS);
        String key = j.string("PublicKey");
        if (key == null) throw j.error("PublicKey", "missing (the peer's public key, base64)");
        long port = j.integer("Port", 0);
        if (port < 0 || port > 65535) throw j.error("Port", "Port out of range: port=" + port + " (1-65535, or 0 for ours)");
        try {
            return new WireguardLeaseData(key, (int) port);
        } catch (ConfigException e) {
            throw e.withSource(j.source());
        }
    }

    ObjectNode toJson() {
        ObjectNode o = JsonFields.NODES.objectNode();
        o.put("PublicKey", publicKey);
        if (port != 0) o.put("Port", port);
        return o;
    }
}
