/** Raw IPv4 sockets for one protocol number with batched send and receive: {@link io.dataplane.tun.raw.RawIpSocket}. */
package io.dataplane.tun.raw;
