package io.dataplane.tun.udp;

import io.dataplane.tun.ErrnoException;
import io.dataplane.tun.sys.SocketNative;
import io.dataplane.tun.sys.Structs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Spreads the datagrams of a tunnel over the UDP sockets of one {@code SO_REUSEPORT} group by the
 * inner packet's flow, so that each socket (each queue of a multi-queue node) takes whole flows.
 *
 * <p><b>Why not the kernel's own choice.</b> Without a program the kernel picks a socket of the
 * group by the hash of the outer 4-tuple. Between two nodes of ours every datagram has the same
 * outer 4-tuple (both ends send from the tunnel's port, as flanneld's udp proxy does), so every
 * flow from one peer would land on one socket and one queue. The program looks past the tunnel's
 * headers instead, at the inner IPv4 packet {@code innerOffset} bytes into the UDP payload (udp: 0;
 * vxlan: 22, after the VXLAN header and the inner Ethernet header), and hashes its addresses and,
 * for TCP and UDP that is not a later fragment, its ports; it returns {@code hash mod sockets}, the
 * index of the socket in the group (the order in which they bound). Peers need no change: the
 * outer source port plays no part, so a kernel VXLAN peer's per-flow source ports and our fixed
 * one spread alike.
 *
 * <pre>
 *   ld  [o+12]; tax; ld [o+16]; xor x; st M[0]        addresses
 *   ldh [o+6];  jset #0x1fff -&gt; hash                   a later fragment has no ports
 *   ldb [o+9];  jeq #6 -&gt; ports; jeq #17 -&gt; ports; ja hash
 *   ports: ldxb 4*([o]&amp;0xf); ld [x+o]; ldx M[0]; xor x; st M[0]
 *   hash:  ld M[0]; mul #0x9e3779b1; rsh #16; mod #sockets; ret a
 * </pre>
 * Loads are relative to the UDP payload (the kernel runs a reuseport program with the data past
 * the UDP header). A datagram too short for a load ends the program with 0: socket 0 takes it (and
 * its decapsulation drops it). An index beyond the sockets bound so far (while the group fills)
 * makes the kernel fall back to its hash. A train the socket takes up as one (UDP GRO) is steered
 * by its first datagram: across a veth a train is one UDP GSO message of the peer, the segments of
 * one flow; a NIC's GRO joins datagrams by the outer 4-tuple, so a train may hold several flows,
 * and a flow whose datagrams lead different trains is then written into the TUN from two queues.
 *
 * @param innerOffset where the inner IPv4 header starts in the UDP payload (0-1024)
 * @param sockets how many sockets the group has (1-256)
 */
public record FlowSteering(int innerOffset, int sockets) {
    private static final int LD_W_ABS = 0x20;
    private static final int LD_H_ABS = 0x28;
    private static final int LD_B_ABS = 0x30;
    private static final int LD_W_IND = 0x40;
    private static final int LD_MEM = 0x60;
    private static final int LDX_MEM = 0x61;
    private static final int LDX_B_MSH = 0xb1;
    private static final int ST = 0x02;
    private static final int TAX = 0x07;
    private static final int XOR_X = 0xac;
    private static final int MUL_K = 0x24;
    private static final int RSH_K = 0x74;
    private static final int MOD_K = 0x94;
    private static final int JEQ_K = 0x15;
    private static final int JSET_K = 0x45;
    private static final int JA = 0x05;
    private static final int RET_A = 0x16;
    /** Fibonacci hashing's multiplier: spreads the low bits of the XOR into the high ones. */
    private static final int GOLDEN = 0x9e3779b1;

    /** Checks the values; the message names the one that is wrong. */
    public FlowSteering {
        if (innerOffset < 0 || innerOffset > 1024) {
            throw new IllegalArgumentException("inner packet offset out of range: innerOffset=" + innerOffset + " (0-1024)");
        }
        if (sockets < 1 || sockets > 256) throw new IllegalArgumentException("socket count out of range: sockets=" + sockets + " (1-256)");
    }

    /** The program's instructions as {@code {code, jt, jf, k}}, in order. */
    int[][] program() {
        int o = innerOffset;
        return new int[][] {
            {LD_W_ABS, 0, 0, o + 12},     // 0: source address
            {TAX, 0, 0, 0},               // 1
            {LD_W_ABS, 0, 0, o + 16},     // 2: destination address
            {XOR_X, 0, 0, 0},             // 3
            {ST, 0, 0, 0},                // 4: M[0] = addresses
            {LD_H_ABS, 0, 0, o + 6},      // 5: flags and fragment offset
            {JSET_K, 9, 0, 0x1fff},       // 6: a later fragment -> 16
            {LD_B_ABS, 0, 0, o + 9},      // 7: protocol
            {JEQ_K, 2, 0, 6},             // 8: TCP -> 11
            {JEQ_K, 1, 0, 17},            // 9: UDP -> 11
            {JA, 0, 0, 5},                // 10: -> 16
            {LDX_B_MSH, 0, 0, o},         // 11: X = inner header length
            {LD_W_IND, 0, 0, o},          // 12: both ports
            {LDX_MEM, 0, 0, 0},           // 13
            {XOR_X, 0, 0, 0},             // 14
            {ST, 0, 0, 0},                // 15: M[0] = addresses ^ ports
            {LD_MEM, 0, 0, 0},            // 16
            {MUL_K, 0, 0, GOLDEN},        // 17
            {RSH_K, 0, 0, 16},            // 18
            {MOD_K, 0, 0, sockets},       // 19
            {RET_A, 0, 0, 0},             // 20
        };
    }

    /**
     * The socket index the program returns for a UDP payload, computed in Java as the kernel runs
     * it (for tests and for telling which queue a flow takes); 0 where a load would fall off the end.
     */
    public int socketFor(byte[] payload) {
        int[] m = new int[1];
        int a = 0;
        int x = 0;
        int[][] program = program();
        for (int pc = 0; pc < program.length; pc++) {
            int[] insn = program[pc];
            int k = insn[3];
            switch (insn[0]) {
                case LD_W_ABS, LD_H_ABS, LD_B_ABS, LD_W_IND -> {
                    int at = insn[0] == LD_W_IND ? x + k : k;
                    int size = insn[0] == LD_H_ABS ? 2 : insn[0] == LD_B_ABS ? 1 : 4;
                    if (at < 0 || at + size > payload.length) return 0;
                    a = 0;
                    for (int i = 0; i < size; i++) a = (a << 8) | (payload[at + i] & 0xff);
                }
                case LDX_B_MSH -> {
                    if (k >= payload.length) return 0;
                    x = 4 * (payload[k] & 0xf);
                }
                case LD_MEM -> a = m[k];
                case LDX_MEM -> x = m[k];
                case ST -> m[k] = a;
                case TAX -> x = a;
                case XOR_X -> a ^= x;
                case MUL_K -> a *= k;
                case RSH_K -> a >>>= k;
                case MOD_K -> a = Integer.remainderUnsigned(a, k);
                case JEQ_K -> pc += a == k ? insn[1] : insn[2];
                case JSET_K -> pc += (a & k) != 0 ? insn[1] : insn[2];
                case JA -> pc += k;
                case RET_A -> {
                    return a;
                }
                default -> throw new AssertionError(insn[0]);
            }
        }
        throw new AssertionError("program ran off its end");
    }

    /**
     * Attaches the program to the reuseport group of socket {@code fd} ({@code
     * SO_ATTACH_REUSEPORT_CBPF}); it applies to every socket of the group.
     *
     * @throws ErrnoException naming the call and errno when the kernel refuses it
     */
    void attach(int fd, String what) throws ErrnoException {
        int[][] program = program();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment filter = arena.allocate(Structs.SOCK_FILTER, program.length);
            for (int i = 0; i < program.length; i++) {
                long at = i * Structs.SOCK_FILTER.byteSize();
                filter.set(ValueLayout.JAVA_SHORT, at, (short) program[i][0]);
                filter.set(ValueLayout.JAVA_BYTE, at + Structs.SOCK_FILTER_JT, (byte) program[i][1]);
                filter.set(ValueLayout.JAVA_BYTE, at + Structs.SOCK_FILTER_JF, (byte) program[i][2]);
                filter.set(ValueLayout.JAVA_INT, at + Structs.SOCK_FILTER_K, program[i][3]);
            }
            MemorySegment fprog = arena.allocate(Structs.SOCK_FPROG);
            fprog.set(ValueLayout.JAVA_SHORT, 0, (short) program.length);
            fprog.set(ValueLayout.JAVA_LONG, Structs.SOCK_FPROG_FILTER, filter.address());
            SocketNative.setsockopt(fd, SocketNative.SOL_SOCKET, SocketNative.SO_ATTACH_REUSEPORT_CBPF, fprog,
                    "SO_ATTACH_REUSEPORT_CBPF, " + what);
        }
    }
}
