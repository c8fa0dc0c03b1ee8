package io.dataplane.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * dataplane-bom, which has no parent and so keeps its own version, against the reactor: the same
 * version, and every library module in it (all but the benchmarks and the BOM itself). An agent
 * that imports the BOM then finds a version for whatever module it names.
 */
class BomTest {
    private static final Path ROOT = Path.of(System.getProperty("dataplane.root", "..")).toAbsolutePath().normalize();

    @Test
    void namesEveryLibraryModuleAtTheReactorsVersion() throws Exception {
        Document parent = read(ROOT.resolve("pom.xml"));
        Document bom = read(ROOT.resolve("dataplane-bom/pom.xml"));
        String version = child(parent.getDocumentElement(), "version");
        assertEquals(version, child(bom.getDocumentElement(), "version"), "dataplane-bom's own version");

        TreeSet<String> modules = new TreeSet<>(texts(parent.getDocumentElement(), "module"));
        modules.removeAll(List.of("benchmarks", "dataplane-bom"));
        String versionProperty = child((Element) bom.getElementsByTagName("properties").item(0), "dataplane.version");
        assertEquals(version, versionProperty, "dataplane-bom's dataplane.version");
        TreeSet<String> managed = new TreeSet<>();
        NodeList deps = bom.getElementsByTagName("dependency");
        for (int i = 0; i < deps.getLength(); i++) {
            Element d = (Element) deps.item(i);
            assertEquals("io.dataplane", child(d, "groupId"));
            assertEquals("${dataplane.version}", child(d, "version"), child(d, "artifactId"));
            managed.add(child(d, "artifactId"));
        }
        assertEquals(modules, managed, "the modules the BOM manages");
    }

    private static Document read(Path pom) throws Exception {
        try (var in = Files.newInputStream(pom)) {
            return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(in);
        }
    }

    /** The text of {@code parent}'s direct child {@code name}. */
    private static String child(Element parent, String name) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) return e.getTextContent().trim();
        }
        throw new AssertionError("no <" + name + "> in <" + parent.getTagName() + ">");
    }

    private static List<String> texts(Element root, String name) {
        List<String> out = new ArrayList<>();
        NodeList nodes = root.getElementsByTagName(name);
        for (int i = 0; i < nodes.getLength(); i++) out.add(nodes.item(i).getTextContent().trim());
        return out;
    }
}
