package io.dataplane.control.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dataplane.core.testing.Prerequisites;
import io.dataplane.control.etcd.testing.EtcdProcess;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.control.LeaseAttrs;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * flanneld's --etcd-cafile/--etcd-certfile/--etcd-keyfile and --etcd-username/--etcd-password
 * against a real etcd that asks for them: with them the node takes its lease, without them it
 * waits saying why in one line.
 */
class EtcdSecurityTest {
    private static final String CONFIG = "{\"Network\": \"10.246.0.0/16\", \"Backend\": {\"Type\": \"udp\"}}";

    @TempDir
    Path pki;
    private final List<String> said = new CopyOnWriteArrayList<>();

    private void openssl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(pki.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), "openssl " + String.join(" ", args) + ": " + out);
    }

    /** A CA, a server certificate for 127.0.0.1 and a client certificate, keys in PKCS#8 PEM. */
    private void makePki() throws Exception {
        Prerequisites.program("openssl");
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
                "-days", "1", "-subj", "/CN=dptest-ca");
        for (String who : List.of("server", "client")) {
            openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", who + ".key", "-out", who + ".csr",
                    "-subj", "/CN=dptest-" + who);
            Files.writeString(pki.resolve(who + ".ext"), who.equals("server")
                    ? "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n" : "extendedKeyUsage=clientAuth\n");
            openssl("x509", "-req", "-in", who + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", who + ".pem", "-days", "1",
                    "-extfile", who + ".ext");
        }
    }

    @Test
    void clientCertificatesAsFlanneldsTlsFiles() throws Exception {
        makePki();
        try (EtcdProcess etcd = EtcdProcess.onLoopbackWithTls(pki.resolve("ca.pem"), pki.resolve("server.pem"), pki.resolve("server.key"),
                pki.resolve("client.pem"), pki.resolve("client.key"))) {
            etcd.etcdctl("put", "/coreos.com/network/config", CONFIG);
            EtcdOptions base = EtcdOptions.of(List.of(etcd.endpoint()), said::add);
            try (EtcdControlPlane p = EtcdControlPlane.connect(base.withTls(pki.resolve("ca.pem"), pki.resolve("client.pem"), pki.resolve("client.key")))) {
                NetConf net = p.network();
                assertEquals(Ipv4Prefix.parse("10.246.0.0/16"), net.network());
                p.acquire(new LeaseAttrs(Ipv4Address.parse("192.0.2.1"), BackendType.UDP, null), null);
            }
            // Trusting the server but showing no client certificate: refused, said once, still waiting.
            assertWaitsSayingWhy(EtcdControlPlane.connect(base.withTls(pki.resolve("ca.pem"), null, null)));
        }
    }

    @Test
    void userAndPassword() throws Exception {
        try (EtcdProcess etcd = EtcdProcess.onLoopback()) {
            etcd.etcdctl("put", "/coreos.com/network/config", CONFIG);
            etcd.etcdctl("user", "add", "root:dptest-pw");
            etcd.etcdctl("auth", "enable");
            etcd.addEtcdctlArgs("--user", "root:dptest-pw");
            EtcdOptions base = EtcdOptions.of(List.of(etcd.endpoint()), said::add);
            try (EtcdControlPlane p = EtcdControlPlane.connect(base.withUser("root", "dptest-pw"))) {
                p.network();
                p.acquire(new LeaseAttrs(Ipv4Address.parse("192.0.2.1"), BackendType.UDP, null), null);
            }
            assertEquals(1, etcd.etcdctl("get", "/coreos.com/network/subnets/", "--prefix", "--keys-only").strip().lines().count());
            assertWaitsSayingWhy(EtcdControlPlane.connect(base.withUser("root", "wrong")));
        }
    }

    private void assertWaitsSayingWhy(EtcdControlPlane p) throws Exception {
        said.clear();
        ExecutorService ex = Executors.newSingleThreadExecutor();
        try (p) {
            Future<NetConf> net = ex.submit(p::network);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (said.stream().noneMatch(l -> l.startsWith("lost etcd at "))) {
                if (System.nanoTime() > deadline) throw new AssertionError("no line saying why: " + said);
                Thread.sleep(50);
            }
            Thread.sleep(3000);
            assertEquals(false, net.isDone(), "still waiting");
            assertEquals(1, said.size(), "one line, not one per retry: " + said);
        } finally {
            ex.shutdownNow();
            ex.awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
