package io.dataplane.core.control;

import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.Lease;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;

/**
 * What a node publishes about itself before it knows its subnet (flannel's {@code LeaseAttrs}):
 * its public IP and its backend with the backend's data (VTEP MAC, WireGuard key).
 *
 * @param publicIp the node's underlay address (see {@link Ipv4Address})
 * @param backendType the node's backend
 * @param backendData the backend's data as compact JSON, or null for none
 */
public record LeaseAttrs(int publicIp, BackendType backendType, String backendData) {

    /** The attributes of {@code lease}. */
    public static LeaseAttrs of(Lease lease) {
        return new LeaseAttrs(lease.publicIp(), lease.backendType(), lease.backendData());
    }

    /**
     * The lease of {@code subnet} with these attributes.
     *
     * @throws io.dataplane.core.config.ConfigException when the attributes do not make a valid lease
     */
    public Lease on(Ipv4Prefix subnet) {
        return new Lease(subnet, publicIp, backendType, backendData);
    }
}
