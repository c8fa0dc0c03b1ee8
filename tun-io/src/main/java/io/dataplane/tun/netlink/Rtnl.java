package io.dataplane.tun.netlink;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

/**
 * rtnetlink's message structs ({@code linux/netlink.h}, {@code linux/rtnetlink.h},
 * {@code linux/if_link.h}, {@code linux/neighbour.h}) as {@link MemoryLayout}s with their field
 * offsets, and the constants this module sends. Host byte order except where noted.
 */
final class Rtnl {
    private Rtnl() {}

    /** {@code struct nlmsghdr}. */
    static final StructLayout NLMSGHDR = MemoryLayout.structLayout(
            JAVA_INT.withName("nlmsg_len"), JAVA_SHORT.withName("nlmsg_type"), JAVA_SHORT.withName("nlmsg_flags"),
            JAVA_INT.withName("nlmsg_seq"), JAVA_INT.withName("nlmsg_pid"));
    static final long NLMSG_LEN = NLMSGHDR.byteOffset(groupElement("nlmsg_len"));
    static final long NLMSG_TYPE = NLMSGHDR.byteOffset(groupElement("nlmsg_type"));
    static final long NLMSG_FLAGS = NLMSGHDR.byteOffset(groupElement("nlmsg_flags"));
    static final long NLMSG_SEQ = NLMSGHDR.byteOffset(groupElement("nlmsg_seq"));
    static final int NLMSG_HDRLEN = (int) NLMSGHDR.byteSize();

    /** {@code struct nlmsgerr}: the (negative) errno and the request's header. */
    static final StructLayout NLMSGERR = MemoryLayout.structLayout(JAVA_INT.withName("error"), NLMSGHDR.withName("msg"));
    static final long NLMSGERR_ERROR = NLMSGERR.byteOffset(groupElement("error"));
    static final long NLMSGERR_MSG = NLMSGERR.byteOffset(groupElement("msg"));

    /** {@code struct rtattr} (also {@code nlattr}): length including this header, then type. */
    static final StructLayout RTATTR = MemoryLayout.structLayout(JAVA_SHORT.withName("rta_len"), JAVA_SHORT.withName("rta_type"));
    static final long RTA_LEN = RTATTR.byteOffset(groupElement("rta_len"));
    static final long RTA_TYPE = RTATTR.byteOffset(groupElement("rta_type"));
    static final int RTA_HDRLEN = (int) RTATTR.byteSize();

    /** {@code struct ifinfomsg}. */
    static final StructLayout IFINFOMSG = MemoryLayout.structLayout(
            JAVA_BYTE.withName("ifi_family"), JAVA_BYTE.withName("ifi_pad"), JAVA_SHORT.withName("ifi_type"),
            JAVA_INT.withName("ifi_index"), JAVA_INT.withName("ifi_flags"), JAVA_INT.withName("ifi_change"));
    static final long IFI_INDEX = IFINFOMSG.byteOffset(groupElement("ifi_index"));
    static final long IFI_FLAGS = IFINFOMSG.byteOffset(groupElement("ifi_flags"));
    static final long IFI_CHANGE = IFINFOMSG.byteOffset(groupElement("ifi_change"));

    /** {@code struct ifaddrmsg}. */
    static final StructLayout IFADDRMSG = MemoryLayout.structLayout(
            JAVA_BYTE.withName("ifa_family"), JAVA_BYTE.withName("ifa_prefixlen"), JAVA_BYTE.withName("ifa_flags"),
            JAVA_BYTE.withName("ifa_scope"), JAVA_INT.withName("ifa_index"));
    static final long IFA_FAMILY = IFADDRMSG.byteOffset(groupElement("ifa_family"));
    static final long IFA_PREFIXLEN = IFADDRMSG.byteOffset(groupElement("ifa_prefixlen"));
    static final long IFA_INDEX = IFADDRMSG.byteOffset(groupElement("ifa_index"));

    /** {@code struct rtmsg}. */
    static final StructLayout RTMSG = MemoryLayout.structLayout(
            JAVA_BYTE.withName("rtm_family"), JAVA_BYTE.withName("rtm_dst_len"), JAVA_BYTE.withName("rtm_src_len"),
            JAVA_BYTE.withName("rtm_tos"), JAVA_BYTE.withName("rtm_table"), JAVA_BYTE.withName("rtm_protocol"),
            JAVA_BYTE.withName("rtm_scope"), JAVA_BYTE.withName("rtm_type"), JAVA_INT.withName("rtm_flags"));
    static final long RTM_FAMILY = RTMSG.byteOffset(groupElement("rtm_family"));
    static final long RTM_DST_LEN = RTMSG.byteOffset(groupElement("rtm_dst_len"));
    static final long RTM_TABLE = RTMSG.byteOffset(groupElement("rtm_table"));
    static final long RTM_PROTOCOL = RTMSG.byteOffset(groupElement("rtm_protocol"));
    static final long RTM_SCOPE = RTMSG.byteOffset(groupElement("rtm_scope"));
    static final long RTM_TYPE = RTMSG.byteOffset(groupElement("rtm_type"));
    static final long RTM_FLAGS = RTMSG.byteOffset(groupElement("rtm_flags"));

    /** {@code struct ndmsg}. */
    static final StructLayout NDMSG = MemoryLayout.structLayout(
            JAVA_BYTE.withName("ndm_family"), JAVA_BYTE.withName("ndm_pad1"), JAVA_SHORT.withName("ndm_pad2"),
            JAVA_INT.withName("ndm_ifindex"), JAVA_SHORT.withName("ndm_state"), JAVA_BYTE.withName("ndm_flags"),
            JAVA_BYTE.withName("ndm_type"));
    static final long NDM_FAMILY = NDMSG.byteOffset(groupElement("ndm_family"));
    static final long NDM_IFINDEX = NDMSG.byteOffset(groupElement("ndm_ifindex"));
    static final long NDM_STATE = NDMSG.byteOffset(groupElement("ndm_state"));
    static final long NDM_FLAGS = NDMSG.byteOffset(groupElement("ndm_flags"));

    static final int NETLINK_ROUTE = 0;
    static final int SOL_NETLINK = 270;
    static final int NETLINK_EXT_ACK = 11;

    static final int NLM_F_REQUEST = 0x01;
    static final int NLM_F_MULTI = 0x02;
    static final int NLM_F_ACK = 0x04;
    static final int NLM_F_DUMP = 0x300;
    static final int NLM_F_REPLACE = 0x100;
    static final int NLM_F_EXCL = 0x200;
    static final int NLM_F_CREATE = 0x400;
    static final int NLM_F_APPEND = 0x800;
    /** In an NLMSG_ERROR: the request's payload was left out. */
    static final int NLM_F_CAPPED = 0x100;
    /** In an NLMSG_ERROR: extended-ack attributes follow. */
    static final int NLM_F_ACK_TLVS = 0x200;
    static final int NLMSGERR_ATTR_MSG = 1;

    static final int NLMSG_ERROR = 2;
    static final int NLMSG_DONE = 3;

    static final int RTM_NEWLINK = 16;
    static final int RTM_GETLINK = 18;
    static final int RTM_NEWADDR = 20;
    static final int RTM_GETADDR = 22;
    static final int RTM_DELADDR = 21;
    static final int RTM_NEWROUTE = 24;
    static final int RTM_DELROUTE = 25;
    static final int RTM_GETROUTE = 26;
    static final int RTM_NEWNEIGH = 28;
    static final int RTM_DELNEIGH = 29;

    static final int IFF_UP = 0x1;
    static final int IFLA_ADDRESS = 1;
    static final int IFLA_IFNAME = 3;
    static final int IFLA_MTU = 4;
    static final int IFLA_TXQLEN = 13;
    static final int IFLA_AF_SPEC = 26;
    static final int IFLA_LINKINFO = 18;
    static final int IFLA_NET_NS_FD = 28;
    static final int IFLA_GSO_MAX_SEGS = 40;
    static final int IFLA_INFO_KIND = 1;
    static final int IFLA_INFO_DATA = 2;
    static final int VETH_INFO_PEER = 1;
    static final int AF_INET6 = 10;
    static final int IFLA_INET6_ADDR_GEN_MODE = 8;
    static final int IN6_ADDR_GEN_MODE_EUI64 = 0;
    static final int IN6_ADDR_GEN_MODE_NONE = 1;
    /** Set in an attribute's type when it holds attributes. */
    static final int NLA_F_NESTED = 0x8000;

    static final int IFA_ADDRESS = 1;
    static final int IFA_LOCAL = 2;
    static final int IFA_LABEL = 3;

    static final int RTA_DST = 1;
    static final int RTA_OIF = 4;
    static final int RTA_GATEWAY = 5;
    static final int RTA_PREFSRC = 7;
    static final int RTA_TABLE = 15;
    static final int RT_TABLE_MAIN = 254;
    static final int RTPROT_BOOT = 3;
    static final int RT_SCOPE_UNIVERSE = 0;
    static final int RT_SCOPE_LINK = 253;
    static final int RT_SCOPE_NOWHERE = 255;
    static final int RTN_UNICAST = 1;
    static final int RTN_LOCAL = 2;
    static final int RTNH_F_ONLINK = 4;

    static final int NDA_DST = 1;
    static final int NDA_LLADDR = 2;
    static final int NUD_PERMANENT = 0x80;
    static final int NTF_SELF = 0x02;

    /** A message type's name for error messages. */
    static String typeName(int type) {
        return switch (type) {
            case RTM_NEWLINK -> "RTM_NEWLINK";
            case RTM_GETLINK -> "RTM_GETLINK";
            case RTM_NEWADDR -> "RTM_NEWADDR";
            case RTM_DELADDR -> "RTM_DELADDR";
            case RTM_GETADDR -> "RTM_GETADDR";
            case RTM_NEWROUTE -> "RTM_NEWROUTE";
            case RTM_DELROUTE -> "RTM_DELROUTE";
            case RTM_GETROUTE -> "RTM_GETROUTE";
            case RTM_NEWNEIGH -> "RTM_NEWNEIGH";
            case RTM_DELNEIGH -> "RTM_DELNEIGH";
            default -> "message type " + type;
        };
    }
}
