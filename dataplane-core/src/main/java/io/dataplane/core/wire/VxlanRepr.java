package io.dataplane.core.wire;

/**
 * A VXLAN header as a value: its VNI. {@link #emit} writes the I flag and zero reserved bits;
 * {@link #parse} reads the VNI alone (a header {@link VxlanHeader#validate} accepts has no reserved
 * bits set).
 *
 * @param vni the VXLAN network identifier, 0-16777215
 */
public record VxlanRepr(int vni) {

    /** Checks the VNI; throws {@link IllegalArgumentException} naming the value. */
    public VxlanRepr {
        if (vni < 0 || vni > VxlanHeader.MAX_VNI) {
            throw new IllegalArgumentException("VNI out of range: vni=" + vni + " (max " + VxlanHeader.MAX_VNI + ")");
        }
    }

    /** Reads the VNI of a header that passed {@link VxlanHeader#validate}. */
    public static VxlanRepr parse(VxlanHeader header) {
        return new VxlanRepr(header.vni());
    }

    /** Writes all 8 bytes: flags with only I set, reserved fields zero, the VNI. */
    public void emit(VxlanHeader header) {
        header.setFlags(VxlanHeader.FLAG_I).setReserved1(0).setReserved2(0).setVni(vni);
    }
}
