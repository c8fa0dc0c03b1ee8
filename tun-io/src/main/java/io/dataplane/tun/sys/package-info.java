/**
 * The native plumbing of tun-io: libc downcalls grouped by syscall family ({@link
 * io.dataplane.tun.sys.FdNative}, {@link io.dataplane.tun.sys.SocketNative}), errno capture and
 * mapping ({@link io.dataplane.tun.sys.NativeCall}, {@link io.dataplane.tun.sys.Errno}), the C
 * struct layouts ({@link io.dataplane.tun.sys.Structs}), the batched socket sends and receives
 * ({@link io.dataplane.tun.sys.MmsgBatch}; {@link io.dataplane.tun.sys.SegmentBatch} for TCP
 * super-packets with UDP GSO), the pollable descriptor with a close wakeup ({@link
 * io.dataplane.tun.sys.WakeableFd}) and memory resident only where written ({@link
 * io.dataplane.tun.sys.PageMemory}). Public only so the sibling packages can share
 * it; it is not part of the library's API.
 */
package io.dataplane.tun.sys;
