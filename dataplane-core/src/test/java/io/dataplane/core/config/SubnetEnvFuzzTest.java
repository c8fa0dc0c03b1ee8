package io.dataplane.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;

/** Any bytes as subnet.env: either a {@link SubnetEnv} that formats back to itself, or a {@link ConfigException}. */
class SubnetEnvFuzzTest {

    @FuzzTest
    @DictionaryEntries({"FLANNEL_NETWORK=", "FLANNEL_SUBNET=", "FLANNEL_MTU=", "FLANNEL_IPMASQ=", "export ", "#", "\"", "'",
        "10.244.0.0/16", "10.244.1.1/24", "1450", "true", "false"})
    void parse(byte[] input) {
        SubnetEnv env;
        try {
            env = SubnetEnv.parse(input, "subnet.env");
        } catch (ConfigException e) {
            assertEquals("subnet.env", e.source(), "every error names the file");
            return;
        }
        assertEquals(env, SubnetEnv.parse(env.format()), "format must read back equal");
    }
}
