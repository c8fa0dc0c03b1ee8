package io.dataplane.core.plain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dataplane.core.config.Lease;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.spi.PeerBackend;
import io.dataplane.core.spi.Peers;
import io.dataplane.core.spi.TransportFactory;
import io.dataplane.core.table.AddressSet;
import io.dataplane.core.table.PeerEntries;
import io.dataplane.core.table.PeerEntry;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.wire.Ipv4Prefix;
import java.io.IOException;

/**
 * The test-only "plain" backend: every node of the network listens on net-conf.json's Port, and
 * says so in its lease's BackendData ({@code {"Port": 8999}}); a peer whose lease names another
 * port, or none, is refused.
 */
final class PlainBackend extends PeerBackend<PeerEntry> {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final int port;
    private final RouteTable routes = new RouteTable();
    private final AddressSet peerAddresses = new AddressSet();
    private final PeerEntries entries = new PeerEntries();
    private final PlainEncapsulation encapsulation;

    private PlainBackend(BackendContext context, int port, TransportFactory transports) throws IOException {
        super(Peers.of(PlainBackendProvider.PLAIN, context), transports.open(context.publicIp(), port, context.pool()));
        this.port = port;
        this.encapsulation = new PlainEncapsulation(peerAddresses, entries, port, context.tunMtu());
    }

    static PlainBackend open(BackendContext context, TransportFactory transports) throws IOException {
        Peers.checkPool(context.pool(), "nothing", 0, context.tunMtu(), 0, "");
        return new PlainBackend(context, context.netConf().backend().port(), transports);
    }

    static String leaseData(int port) {
        return "{\"Port\":" + port + "}";
    }

    /** The peer's port from its BackendData; IllegalArgumentException naming the field and value when it has none. */
    private static int portOf(Lease lease) {
        JsonNode port;
        try {
            port = lease.backendData() == null ? null : JSON.readTree(lease.backendData()).get("Port");
        } catch (IOException e) {
            throw new IllegalArgumentException("BackendData not JSON: " + lease.backendData(), e);
        }
        if (port == null || !port.canConvertToInt() || port.asInt() < 1 || port.asInt() > 65535) {
            throw new IllegalArgumentException("plain lease without a port: BackendData.Port=" + port + " (lease of " + lease.subnet() + ")");
        }
        return port.asInt();
    }

    @Override
    public Lease localLease() {
        return new Lease(peers.ourSubnet(), peers.ourPublicIp(), PlainBackendProvider.PLAIN, leaseData(port));
    }

    @Override
    public Encapsulation encapsulation() {
        return encapsulation;
    }

    /** Peer subnet -&gt; the id of the peer's entry, which holds its public IP. */
    @Override
    public RouteTable routes() {
        return routes;
    }

    @Override
    public int gateway(int routeValue) {
        return entries.endpoint(routeValue);
    }

    @Override
    public synchronized PeerEntry peerEntry(Ipv4Prefix subnet) {
        Peers.Peer<PeerEntry> peer = peers.get(subnet);
        return peer == null ? null : peer.state();
    }

    @Override
    protected void add(Lease lease) {
        peers.check(lease);
        int peerPort = portOf(lease);
        if (peerPort != port) {
            throw new IllegalArgumentException("lease on another port: BackendData.Port=" + peerPort + ", ours is " + port
                    + " (lease of " + lease.subnet() + ")");
        }
        Peers.Peer<PeerEntry> old = peers.get(lease.subnet());
        PeerEntry entry = old != null ? old.state() : entries.add(lease.subnet(), lease.publicIp());
        peers.put(lease, entry);
        if (old != null && old.publicIp() == lease.publicIp()) return;
        peerAddresses.add(lease.publicIp(), entry.id());
        if (old == null) {
            routes.add(lease.subnet(), entry.id());
        } else {
            entry.setEndpoint(lease.publicIp());
            peerAddresses.remove(old.publicIp());
        }
    }

    @Override
    protected void remove(Peers.Peer<PeerEntry> peer) {
        routes.remove(peer.subnet());
        peerAddresses.remove(peer.publicIp());
        entries.remove(peer.state());
    }
}
