/** Named network namespaces as iproute2 keeps them, and dedicated threads inside them: {@link io.dataplane.tun.netns.NetNamespace}. */
package io.dataplane.tun.netns;
