package io.dataplane.core.control;

import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.ConfigException;
import io.dataplane.core.config.Lease;
import io.dataplane.core.wire.Ipv4Prefix;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The other nodes' leases as a node knows them, fed from a store's keys under {@code subnets/}
 * (single changes, or a whole listing to reconcile with) and passed on to {@link PeerEvents} as
 * they change. Not thread-safe: one thread feeds it.
 *
 * <p>What the store holds is untrusted input:
 * <ul>
 *   <li>a key that names no subnet (a foreign key) or whose value does not parse as a lease is
 *       skipped and counted ({@link #unparsable()}), and said once per key; a peer known under
 *       that key stays as it was: bad input never takes a working peer away;</li>
 *   <li>a lease of another backend type than ours is ignored and counted ({@link #otherBackend()});
 *       a known peer whose lease turns into one is removed;</li>
 *   <li>our own subnet is never a peer.</li>
 * </ul>
 */
public final class PeerSet {
    private final BackendType backend;
    private final PeerEvents events;
    private final Consumer<String> say;
    private final Map<Ipv4Prefix, Lease> known = new LinkedHashMap<>();
    private final Set<String> reported = new HashSet<>();
    private Ipv4Prefix own;
    private long unparsable;
    private long otherBackend;

    /**
     * @param backend our backend: leases of others are ignored
     * @param own our subnet, or null while we have none
     * @param events where changes go
     * @param say where the one line about a bad key goes
     */
    public PeerSet(BackendType backend, Ipv4Prefix own, PeerEvents events, Consumer<String> say) {
        this.backend = backend;
        this.own = own;
        this.events = events;
        this.say = say;
    }

    /** Sets our own subnet (never a peer); a peer known under it is removed. */
    public void own(Ipv4Prefix subnet) {
        own = subnet;
        if (subnet != null && known.remove(subnet) != null) events.removed(subnet);
    }

    /** A key was written. */
    public void put(String key, byte[] value) {
        Lease lease = parse(key, value);
        if (lease == null) return;
        apply(lease);
    }

    /** A key was deleted (or its lease expired). */
    public void delete(String key) {
        Ipv4Prefix subnet = SubnetKey.parse(key);
        if (subnet == null) return;
        if (known.remove(subnet) != null) events.removed(subnet);
    }

    /**
     * Makes the known peers those of a full listing of the keys ({@code key -> value}): adds the
     * new, applies changed attributes, removes those whose key is gone. A key whose value does not
     * parse keeps the peer known under it.
     */
    public void reconcile(Map<String, byte[]> listing) {
        Set<Ipv4Prefix> present = new HashSet<>();
        List<Lease> leases = new ArrayList<>();
        for (Map.Entry<String, byte[]> e : listing.entrySet()) {
            Ipv4Prefix subnet = SubnetKey.parse(e.getKey());
            if (subnet != null) present.add(subnet);
            Lease lease = parse(e.getKey(), e.getValue());
            if (lease != null) leases.add(lease);
        }
        for (Ipv4Prefix s : List.copyOf(known.keySet())) {
            if (!present.contains(s)) {
                known.remove(s);
                events.removed(s);
            }
        }
        for (Lease l : leases) apply(l);
    }

    /** The peers now known, by subnet. */
    public Map<Ipv4Prefix, Lease> known() {
        return Collections.unmodifiableMap(known);
    }

    /** Keys skipped so far because they named no subnet or their value did not parse. */
    public long unparsable() {
        return unparsable;
    }

    /** Leases ignored so far because they are of another backend type. */
    public long otherBackend() {
        return otherBackend;
    }

    private void apply(Lease lease) {
        Ipv4Prefix s = lease.subnet();
        if (s.equals(own)) return;
        if (!lease.backendType().equals(backend)) {
            otherBackend++;
            if (known.remove(s) != null) events.removed(s);
            return;
        }
        Lease before = known.put(s, lease);
        if (!lease.equals(before)) events.put(lease);
    }

    /** The lease under {@code key}, or null (counted, said once per key) when it has none that parses. */
    private Lease parse(String key, byte[] value) {
        Ipv4Prefix subnet = SubnetKey.parse(key);
        if (subnet == null) {
            skip(key, "not a subnet key");
            return null;
        }
        try {
            return Lease.fromFlannelAttrs(subnet, value, key);
        } catch (ConfigException e) {
            skip(key, e.getMessage());
            return null;
        }
    }

    private void skip(String key, String why) {
        unparsable++;
        if (reported.add(key)) say.accept("skipping " + (why.startsWith(key) ? why : key + ": " + why) + " (known peers kept)");
    }
}
