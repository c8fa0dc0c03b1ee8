package io.dataplane.core.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dataplane.core.wire.MacAddress;
import java.util.List;

/**
 * The BackendData of a vxlan lease: the peer's VNI and the MAC address of its VTEP, which becomes
 * the neighbor (ARP) entry for its subnet and the key of its FDB entry.
 *
 * <pre>{@code {"VNI": 1, "VtepMAC": "22:e8:35:88:1e:9a"}}</pre>
 *
 * @param vni the VXLAN network identifier the peer uses, 0-16777215
 * @param vtepMac the peer VTEP's MAC address; unicast
 */
public record VxlanLeaseData(int vni, MacAddress vtepMac) {
    private static final List<String> FIELDS = List.of("VNI", "VtepMAC");

    /** Checks the VNI range and that the MAC is a unicast address. */
    public VxlanLeaseData {
        if (vni < 0 || vni > BackendConf.MAX_VNI) {
            throw new ConfigException(null, "BackendData.VNI", "VNI out of range: vni=" + vni + (vni < 0 ? " (min 0)" : " (max " + BackendConf.MAX_VNI + ")"));
        }
        if (vtepMac == null) throw new ConfigException(null, "BackendData.VtepMAC", "missing");
        if (vtepMac.isMulticast() || vtepMac.value() == 0) {
            throw new ConfigException(null, "BackendData.VtepMAC", "not a unicast MAC address: " + vtepMac);
        }
    }

    static VxlanLeaseData fromJson(JsonFields j) {
        j.rejectTypos(FIELDS);
        long vni = j.integer("VNI", -1);
        if (!j.has("VNI")) throw j.error("VNI", "missing (the peer's VXLAN network identifier, e.g. 1)");
        if (vni < 0 || vni > BackendConf.MAX_VNI) {
            throw j.error("VNI", "VNI out of range: vni=" + vni + (vni < 0 ? " (min 0)" : " (max " + BackendConf.MAX_VNI + ")"));
        }
        String mac = j.string("VtepMAC");
        if (mac == null) throw j.error("VtepMAC", "missing (the peer VTEP's MAC address, e.g. \"22:e8:35:88:1e:9a\")");
        MacAddress vtepMac;
        try {
            vtepMac = MacAddress.parse(mac);
        } catch (IllegalArgumentException e) {
            throw j.error("VtepMAC", e.getMessage());
        }
        try {
            return new VxlanLeaseData((int) vni, vtepMac);
        } catch (ConfigException e) {
            throw e.withSource(j.source());
        }
    }

    ObjectNode toJson() {
        ObjectNode o = JsonFields.NODES.objectNode();
        o.put("VNI", vni);
        o.put("VtepMAC", vtepMac.toString());
        return o;
    }
}
