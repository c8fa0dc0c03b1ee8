/**
 * Linux I/O through the Foreign Function &amp; Memory API: {@link io.dataplane.tun.TunDevice} (the
 * TUN as the core's {@code TunnelDevice}), with its options, offloads and virtio_net_hdr view, and
 * the errors every call here reports ({@link io.dataplane.tun.ErrnoException}).
 *
 * <p>Sub-packages: {@code netlink} (rtnetlink: links, addresses, routes, neighbors, FDB),
 * {@code netns} (named network namespaces and threads inside them), {@code socket} (the
 * transport over UDP and raw IP sockets), {@code udp} and {@code raw} (those sockets), {@code sys}
 * (the downcalls and struct layouts, shared by the others; not an API).
 * No JNI, and no program is run: everything is a system call.
 */
package io.dataplane.tun;
