package io.dataplane.node;

import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.ConfigException;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.config.SubnetEnv;
import io.dataplane.core.spi.BackendProvider;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.core.wire.MacAddress;
import io.dataplane.wireguard.TransportCipher;
import java.nio.file.Path;

/**
 * What an {@link OverlayNode} is built from: flannel's network configuration, this node's lease
 * (subnet and public IP), and the local choices flanneld takes from its command line.
 *
 * @param netConf the network (net-conf.json), with the backend
 * @param subnet this node's subnet (its lease), inside {@code netConf.network()}
 * @param publicIp this node's underlay address (see {@link Ipv4Address}); must be an address of
 *     one of the host's interfaces in the namespace the node starts in: peers send to it, and when
 *     the backend sets no MTU the node takes that interface's MTU as the underlay MTU
 * @param tunName the TUN device's name; null for flannel's name of the backend's device
 *     ({@link #defaultTunName})
 * @param tunMtu the TUN's MTU, or 0 to compute it as flannel does: the underlay MTU (the backend's
 *     {@code MTU}, else the public IP's interface's) minus the backend's overhead
 * @param stateDir where the backend keeps what must survive a restart (the VTEP MAC, the WireGuard
 *     private key {@code wgkey}); null for {@link #DEFAULT_STATE_DIR}/{@code TUNNAME}
 * @param vtepMac the VXLAN VTEP's MAC address, or null to keep one in the state directory (vxlan only)
 * @param packetPath batch and ring packetPath of the packet path, and its TUN writer
 * @param wireguardCipher which ChaCha20-Poly1305 seals WireGuard's transport data, or null for
 *     {@link TransportCipher#DEFAULT} (wireguard only)
 */
public record NodeConfig(NetConf netConf, Ipv4Prefix subnet, int publicIp, String tunName, int tunMtu, Path stateDir,
        MacAddress vtepMac, PacketPathOptions packetPath, TransportCipher wireguardCipher) {

    /** Where backends keep their state unless told otherwise (as flanneld keeps its own under /run/flannel). */
    public static final Path DEFAULT_STATE_DIR = Path.of("/run/dataplane");

    /** Checks every field; throws {@link ConfigException} naming the field and the value. */
    public NodeConfig {
        if (netConf == null) throw new ConfigException(null, "netConf", "missing");
        if (subnet == null) throw new ConfigException(null, "subnet", "missing");
        if (!netConf.network().contains(subnet) || subnet.length() == netConf.network().length()) {
            throw new ConfigException(null, "subnet", "subnet outside the network: " + subnet + " is not a subnet of " + netConf.network());
        }
        if (publicIp == 0 || publicIp == -1 || (publicIp >>> 28) == 0xe) {
            throw new ConfigException(null, "publicIp", "not a unicast address: " + Ipv4Address.toString(publicIp));
        }
        if (tunMtu != 0 && (tunMtu < 68 || tunMtu > 65535)) {
            throw new ConfigException(null, "tunMtu", "MTU out of range: tunMtu=" + tunMtu + " (68-65535, or 0 to compute it)");
        }
        if (vtepMac != null && netConf.backend().type() != BackendType.VXLAN) {
            throw new ConfigException(null, "vtepMac", "a VTEP MAC is for the vxlan backend only: vtepMac=" + vtepMac
                    + " with Backend.Type=" + netConf.backend().type());
        }
        if (vtepMac != null && (vtepMac.isMulticast() || vtepMac.value() == 0)) {
            throw new ConfigException(null, "vtepMac", "not a unicast MAC address: " + vtepMac);
        }
        if (packetPath == null) throw new ConfigException(null, "packetPath", "missing");
        if (wireguardCipher != null && netConf.backend().type() != BackendType.WIREGUARD) {
            throw new ConfigException(null, "wireguardCipher", "a transport cipher is for the wireguard backend only: wireguardCipher="
                    + wireguardCipher + " with Backend.Type=" + netConf.backend().type());
        }
    }

    /** A node of {@code netConf}'s backend for {@code subnet} at {@code publicIp}, everything else defaulted. */
    public static NodeConfig of(NetConf netConf, Ipv4Prefix subnet, int publicIp) {
        return new NodeConfig(netConf, subnet, publicIp, null, 0, null, null, PacketPathOptions.defaults(), null);
    }

    /**
     * A node from flannel's two files: net-conf.json and the subnet.env flanneld wrote for this
     * node (its FLANNEL_SUBNET, and FLANNEL_MTU as the TUN's MTU when set).
     *
     * @throws ConfigException when subnet.env's FLANNEL_NETWORK is not net-conf.json's Network
     */
    public static NodeConfig of(NetConf netConf, SubnetEnv subnetEnv, int publicIp) {
        if (!subnetEnv.network().equals(netConf.network())) {
            throw new ConfigException(SubnetEnv.FILE_NAME, "FLANNEL_NETWORK", "not the Network of " + NetConf.FILE_NAME + ": "
                    + subnetEnv.network() + " (net-conf.json says " + netConf.network() + ")");
        }
        return of(netConf, subnetEnv.subnet(), publicIp).withTunMtu(subnetEnv.mtu());
    }

    /**
     * flannel's name for the backend's device ({@link BackendProvider#tunName}): {@code flannel0}
     * for udp (its TUN), {@code flannel.VNI} for vxlan, {@code flannel.ipip} and {@code flannel-wg}
     * for the others.
     *
     * @throws ConfigException when no backend module of the configured type is on the class path
     */
    public static String defaultTunName(NetConf netConf) {
        return BackendProvider.of(netConf.backend().type()).tunName(netConf.backend());
    }

    /** The TUN name to use: {@link #tunName} or flannel's. */
    public String effectiveTunName() {
        return tunName != null ? tunName : defaultTunName(netConf);
    }

    /** The state directory to use: {@link #stateDir} or {@link #DEFAULT_STATE_DIR}/TUNNAME. */
    public Path effectiveStateDir() {
        return stateDir != null ? stateDir : DEFAULT_STATE_DIR.resolve(effectiveTunName());
    }

    /** This config with another TUN name (null: flannel's). */
    public NodeConfig withTunName(String tunName) {
        return new NodeConfig(netConf, subnet, publicIp, tunName, tunMtu, stateDir, vtepMac, packetPath, wireguardCipher);
    }

    /** This config with the TUN's MTU fixed (0: computed). */
    public NodeConfig withTunMtu(int tunMtu) {
        return new NodeConfig(netConf, subnet, publicIp, tunName, tunMtu, stateDir, vtepMac, packetPath, wireguardCipher);
    }

    /** This config with another state directory (null: the default). */
    public NodeConfig withStateDir(Path stateDir) {
        return new NodeConfig(netConf, subnet, publicIp, tunName, tunMtu, stateDir, vtepMac, packetPath, wireguardCipher);
    }

    /** This config with a given VTEP MAC (vxlan; null: kept in the state directory). */
    public NodeConfig withVtepMac(MacAddress vtepMac) {
        return new NodeConfig(netConf, subnet, publicIp, tunName, tunMtu, stateDir, vtepMac, packetPath, wireguardCipher);
    }

    /** This config with other packet path packetPath. */
    public NodeConfig withPacketPath(PacketPathOptions packetPath) {
        return new NodeConfig(netConf, subnet, publicIp, tunName, tunMtu, stateDir, vtepMac, packetPath, wireguardCipher);
    }

    /** This config with another WireGuard transport cipher (wireguard; null: {@link TransportCipher#DEFAULT}). */
    public NodeConfig withWireguardCipher(TransportCipher wireguardCipher) {
        return new NodeConfig(netConf, subnet, publicIp, tunName, tunMtu, stateDir, vtepMac, packetPath, wireguardCipher);
    }

    /** The WireGuard transport cipher to use: {@link #wireguardCipher} or the default. */
    public TransportCipher effectiveWireguardCipher() {
        return wireguardCipher != null ? wireguardCipher : TransportCipher.DEFAULT;
    }

    @Override
    public String toString() {
        return "NodeConfig[" + netConf.backend().type() + " network=" + netConf.network() + " subnet=" + subnet + " publicIp="
                + Ipv4Address.toString(publicIp) + " tun=" + effectiveTunName() + (tunMtu != 0 ? " tunMtu=" + tunMtu : "")
                + " stateDir=" + effectiveStateDir() + (vtepMac != null ? " vtepMac=" + vtepMac : "")
                + (wireguardCipher != null ? " wireguardCipher=" + wireguardCipher : "") + " " + packetPath + "]";
    }
}
