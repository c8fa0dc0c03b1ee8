package io.dataplane.core.control;

import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.wire.Ipv4Prefix;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * Which subnet a node takes, in flanneld's order:
 * <ol>
 *   <li>a lease in the store that carries our public IP and fits the configuration (SubnetLen,
 *       SubnetMin to SubnetMax) is ours again: {@link #existing()} is set, and the caller rewrites
 *       it with our attributes; leases with our public IP that do not fit are {@link #stale()};</li>
 *   <li>else the subnet of our subnet.env, if it fits and no key in the store overlaps it;</li>
 *   <li>else one at random among the first {@value #CANDIDATES} free subnets from SubnetMin up.</li>
 * </ol>
 * {@link #subnet()} is null when no subnet is free.
 *
 * @param subnet the subnet to take, or null when none is free
 * @param existing our lease already in the store for that subnet, or null to create it
 * @param stale other subnets whose leases carry our public IP but no longer fit the configuration
 */
public record SubnetChoice(Ipv4Prefix subnet, Lease existing, List<Ipv4Prefix> stale) {

    /** How many free subnets the random choice is made among (flanneld's number). */
    public static final int CANDIDATES = 100;

    /**
     * Chooses a subnet.
     *
     * @param net the network's configuration
     * @param publicIp our public IP
     * @param leases the store's leases that parse, by subnet
     * @param taken every subnet that has a key in the store, leases that do not parse included
     * @param previous our subnet.env's subnet, or null
     * @param random the source of the random choice
     */
    public static SubnetChoice choose(NetConf net, int publicIp, Map<Ipv4Prefix, Lease> leases, Collection<Ipv4Prefix> taken,
            Ipv4Prefix previous, RandomGenerator random) {
        Lease ours = null;
        List<Ipv4Prefix> stale = new ArrayList<>();
        for (Lease l : leases.values()) {
            if (l.publicIp() != publicIp) continue;
            if (ours == null && net.isLeasable(l.subnet())) ours = l;
            else stale.add(l.subnet());
        }
        if (ours != null) return new SubnetChoice(ours.subnet(), ours, List.copyOf(stale));
        if (previous != null && net.isLeasable(previous) && !overlapsAny(previous, taken)) {
            return new SubnetChoice(previous, null, List.copyOf(stale));
        }
        List<Ipv4Prefix> free = new ArrayList<>(CANDIDATES);
        long step = 1L << (32 - net.subnetLen());
        long last = Integer.toUnsignedLong(net.subnetMax().address());
        for (long a = Integer.toUnsignedLong(net.subnetMin().address()); a <= last && free.size() < CANDIDATES; a += step) {
            Ipv4Prefix candidate = new Ipv4Prefix((int) a, net.subnetLen());
            if (!overlapsAny(candidate, taken)) free.add(candidate);
        }
        Ipv4Prefix chosen = free.isEmpty() ? null : free.get(random.nextInt(free.size()));
        return new SubnetChoice(chosen, null, List.copyOf(stale));
    }

    private static boolean overlapsAny(Ipv4Prefix subnet, Collection<Ipv4Prefix> taken) {
        for (Ipv4Prefix t : taken) {
            if (t.contains(subnet) || subnet.contains(t)) return true;
        }
        return false;
    }
}
