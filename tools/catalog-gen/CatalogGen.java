/*
 * CatalogGen: writes the option catalog of one Flink distribution as one deterministic JSON
 * document (the schema of flinkops_config::catalog::Catalog).
 *
 * It scans every jar of a distribution on its class path (lib/, opt/, plugins/<name>/, and the
 * planner jar nested in flink-table-planner-loader, which generate.sh extracts), finds every
 * `public static final ConfigOption` field by reflection and prints, sorted by key: key, type, default (as Flink prints it), fallback and
 * deprecated keys, @Deprecated, @Documentation.ExcludeFromDocumentation, description (plain
 * text) and the declaring class. Options that table factories return from
 * requiredOptions()/optionalOptions() are WITH-clause options of connectors and formats, not
 * configuration keys: they are left out. Options documented with @Documentation.SuffixOption,
 * keys with a `<placeholder>`, and reporter parameters of the plugins become prefix families,
 * together with the pass-through prefixes listed in prefixes.json.
 *
 * Compiled by generate.sh against the distribution's flink-dist jar; counts and failures go to
 * stderr, the JSON to the output file.
 *
 * Usage: java -cp <generator>:<every jar of the distribution> CatalogGen <version> <prefixes.json> <out.json>
 */

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.annotation.Annotation;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.FallbackKey;
import org.apache.flink.configuration.description.Description;
import org.apache.flink.configuration.description.Formatter;
import org.apache.flink.configuration.description.TextElement;

public final class CatalogGen {

    private static final String OPTION_DESCRIPTOR = "Lorg/apache/flink/configuration/ConfigOption;";
    private static final String DOC = "org.apache.flink.annotation.docs.Documentation$";

    /** Reporter factory services and the prefix family their plugin's parameters belong to. */
    private static final Map<String, String> PLUGIN_SERVICES = new LinkedHashMap<>();

    static {
        PLUGIN_SERVICES.put("org.apache.flink.metrics.reporter.MetricReporterFactory", "metrics.reporter.<name>");
        PLUGIN_SERVICES.put("org.apache.flink.traces.reporter.TraceReporterFactory", "traces.reporter.<name>");
        PLUGIN_SERVICES.put("org.apache.flink.events.reporter.EventReporterFactory", "events.reporter.<name>");
        PLUGIN_SERVICES.put(
                "org.apache.flink.api.common.externalresource.ExternalResourceDriverFactory",
                "external-resource.<resource_name>.param");
    }

    private static final Pattern PARAM_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9._-]*");

    /** One found option field. */
    static final class Found {
        final ConfigOption<?> option;
        final Field field;
        final String origin; // "core" or "plugin:<dir>"

        Found(ConfigOption<?> option, Field field, String origin) {
            this.option = option;
            this.field = field;
            this.origin = origin;
        }
    }

    /** One prefix family while it is being assembled. */
    static final class Family {
        final String prefix;
        final String nameSegment; // null for plain prefixes
        String description;
        final TreeSet<String> sources = new TreeSet<>();
        final TreeMap<String, String> options = new TreeMap<>(); // relative key -> option JSON

        Family(String prefix, String nameSegment, String description) {
            this.prefix = prefix;
            this.nameSegment = nameSegment;
            this.description = description;
        }
    }

    private final String version;
    private final PrintStream log = System.err;
    private final List<Path> jars = new ArrayList<>();
    private final Map<Path, String> jarOrigin = new LinkedHashMap<>();
    private final Map<String, Family> families = new TreeMap<>();
    private ClassLoader loader;

    private int classesWithOptions;
    private int classInitFailures;
    private final List<String> initFailureSamples = new ArrayList<>();

    CatalogGen(String version) {
        this.version = version;
        String[] parts = version.split("\\.");
        if (parts.length >= 2) {
            docsBase = "https://nightlies.apache.org/flink/flink-docs-release-" + parts[0] + "." + parts[1];
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: java -cp <generator>:<every jar of the distribution> CatalogGen "
                    + "<version> <prefixes.json> <out.json>");
            System.exit(2);
        }
        CatalogGen gen = new CatalogGen(args[0]);
        String json = gen.run(Path.of(args[1]));
        Files.writeString(Path.of(args[2]), json, StandardCharsets.UTF_8);
        // Some static initialisers start non-daemon threads: do not wait for them.
        System.exit(0);
    }

    String run(Path prefixesFile) throws Exception {
        collectJars();
        loader = CatalogGen.class.getClassLoader();

        List<Found> found = scanOptions();
        Set<ConfigOption<?>> factoryOptions = tableFactoryOptions();
        addPluginParameters();
        addDataFamilies(prefixesFile);

        // key -> declarations
        TreeMap<String, List<Found>> byKey = new TreeMap<>();
        int factoryScoped = 0;
        int templated = 0;
        for (Found f : found) {
            if (factoryOptions.contains(f.option) || isFactoryUtil(f)) {
                factoryScoped++;
                continue;
            }
            String suffixOf = annotationValue(f.field, "SuffixOption");
            String key = f.option.key();
            if (suffixOf == null && !key.contains(".")) {
                // An undotted key in a class whose other options are suffix options is one too,
                // even without the annotation (MetricOptions' deprecated `class` in 1.x).
                suffixOf = soleSuffixPrefix(f.field.getDeclaringClass());
            }
            if (suffixOf != null) {
                templated++;
                addToFamily(suffixOf + "." + key, f, "@Documentation.SuffixOption in " + declaringClass(f));
                continue;
            }
            if (key.contains("<")) {
                templated++;
                addToFamily(key, f, "templated key in " + declaringClass(f));
                continue;
            }
            if (f.origin.startsWith("plugin:")) {
                // Options of a plugin without a SuffixOption annotation: parameters of the
                // plugin's factories.
                List<String> fams = pluginFamilies(f.origin);
                for (String fam : fams) {
                    addToFamily(fam + "." + key, f, "options of plugin " + f.origin.substring(7));
                }
                if (!fams.isEmpty()) {
                    templated++;
                    continue;
                }
            }
            byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(f);
        }

        StringBuilder out = new StringBuilder();
        out.append("{\"version\":").append(str(version)).append(",\n\"options\":[\n");
        boolean first = true;
        int duplicates = 0;
        int deprecatedOptions = 0;
        int deprecatedKeys = 0;
        for (Map.Entry<String, List<Found>> e : byKey.entrySet()) {
            List<Found> decls = new ArrayList<>(e.getValue());
            // Deterministic choice among several declarations: non-deprecated first, then class.
            decls.sort((a, b) -> {
                int c = Boolean.compare(isDeprecated(a), isDeprecated(b));
                return c != 0 ? c : declaringClass(a).compareTo(declaringClass(b));
            });
            Set<String> classes = new TreeSet<>();
            for (Found d : decls) {
                classes.add(declaringClass(d));
            }
            if (classes.size() > 1) {
                duplicates++;
            }
            Found chosen = decls.get(0);
            classes.remove(declaringClass(chosen));
            if (isDeprecated(chosen)) {
                deprecatedOptions++;
            }
            for (Found d : decls) {
                for (FallbackKey fk : d.option.fallbackKeys()) {
                    if (fk.isDeprecated()) {
                        deprecatedKeys++;
                    }
                }
            }
            out.append(first ? "" : ",\n");
            first = false;
            out.append(optionJson(e.getKey(), decls, chosen, classes));
        }
        out.append("\n],\n\"prefixes\":[\n");
        first = true;
        for (Family fam : families.values()) {
            out.append(first ? "" : ",\n");
            first = false;
            out.append(familyJson(fam));
        }
        out.append("\n]}\n");

        log.printf(
                "catalog-gen %s: %d jars, %d classes with ConfigOption fields (%d failed to initialise), "
                        + "%d option fields, %d keys, %d deprecated options, %d deprecated-key mappings, "
                        + "%d keys declared in several classes, %d table connector/format options left out, "
                        + "%d suffix/plugin options in %d prefix families%n",
                version, jars.size(), classesWithOptions, classInitFailures, found.size(), byKey.size(),
                deprecatedOptions, deprecatedKeys, duplicates, factoryScoped, templated, families.size());
        for (String s : initFailureSamples) {
            log.println("  init failed: " + s);
        }
        return out.toString();
    }

    // ---------------------------------------------------------------- jars

    /**
     * The jars come from this JVM's class path (generate.sh puts the generator, flink-dist, the
     * other lib/ and opt/ jars, the extracted planner jar and the plugin jars on it), so one class
     * loader sees them all: a class of flink-dist can link against a class of the table uber jar.
     * A jar under plugins/<dir>/ has origin "plugin:<dir>", every other jar "core".
     */
    private void collectJars() throws IOException {
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry);
            if (!entry.endsWith(".jar") || !Files.isRegularFile(p)) {
                continue;
            }
            Path parent = p.getParent();
            Path grand = parent == null ? null : parent.getParent();
            boolean plugin = grand != null && grand.getFileName() != null
                    && grand.getFileName().toString().equals("plugins");
            jars.add(p);
            jarOrigin.put(p, plugin ? "plugin:" + parent.getFileName() : "core");
        }
        if (jars.stream().noneMatch(j -> j.getFileName().toString().startsWith("flink-dist"))) {
            throw new IOException("no flink-dist jar on the class path");
        }
    }

    // ---------------------------------------------------------------- options

    private List<Found> scanOptions() throws IOException {
        // class name -> origin, first jar wins (same order as the class loader).
        Map<String, String> candidates = new LinkedHashMap<>();
        for (Path jar : jars) {
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                var entries = zip.entries();
                while (entries.hasMoreElements()) {
                    ZipEntry e = entries.nextElement();
                    String n = e.getName();
                    if (!n.endsWith(".class") || !n.startsWith("org/apache/flink/")
                            || n.contains("/shaded/") || n.startsWith("META-INF")) {
                        continue;
                    }
                    String cls = n.substring(0, n.length() - 6).replace('/', '.');
                    if (candidates.containsKey(cls)) {
                        continue;
                    }
                    byte[] bytes;
                    try (InputStream in = zip.getInputStream(e)) {
                        bytes = in.readAllBytes();
                    }
                    if (contains(bytes, OPTION_DESCRIPTOR)) {
                        candidates.put(cls, jarOrigin.get(jar));
                    }
                }
            }
        }
        List<Found> found = new ArrayList<>();
        Set<String> seenFields = new TreeSet<>();
        for (Map.Entry<String, String> c : new TreeMap<>(candidates).entrySet()) {
            Class<?> cls;
            Field[] fields;
            try {
                cls = Class.forName(c.getKey(), true, loader);
                fields = cls.getDeclaredFields();
            } catch (Throwable t) {
                classInitFailures++;
                if (initFailureSamples.size() < 20) {
                    initFailureSamples.add(c.getKey() + ": " + t);
                }
                continue;
            }
            boolean any = false;
            for (Field f : fields) {
                int m = f.getModifiers();
                if (!Modifier.isPublic(m) || !Modifier.isStatic(m) || !Modifier.isFinal(m)
                        || !ConfigOption.class.isAssignableFrom(f.getType())) {
                    continue;
                }
                Object v;
                try {
                    v = f.get(null);
                } catch (Throwable t) {
                    continue;
                }
                if (v instanceof ConfigOption && seenFields.add(cls.getName() + "#" + f.getName())) {
                    found.add(new Found((ConfigOption<?>) v, f, c.getValue()));
                    any = true;
                }
            }
            if (any) {
                classesWithOptions++;
            }
        }
        return found;
    }

    private static boolean contains(byte[] hay, String needle) {
        byte[] n = needle.getBytes(StandardCharsets.UTF_8);
        outer:
        for (int i = 0; i + n.length <= hay.length; i++) {
            for (int j = 0; j < n.length; j++) {
                if (hay[i + j] != n[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /** The ConfigOption objects table factories declare: connector/format WITH options. */
    private Set<ConfigOption<?>> tableFactoryOptions() {
        Set<ConfigOption<?>> result = Collections.newSetFromMap(new IdentityHashMap<>());
        int factories = 0;
        int failures = 0;
        for (String className : serviceProviders("org.apache.flink.table.factories.Factory")) {
            try {
                Class<?> cls = Class.forName(className, true, loader);
                Object factory = cls.getDeclaredConstructor().newInstance();
                for (String m : new String[] {"requiredOptions", "optionalOptions"}) {
                    Method method = cls.getMethod(m);
                    Object v = method.invoke(factory);
                    if (v instanceof Collection) {
                        for (Object o : (Collection<?>) v) {
                            if (o instanceof ConfigOption) {
                                result.add((ConfigOption<?>) o);
                            }
                        }
                    }
                }
                factories++;
            } catch (Throwable t) {
                failures++;
                log.println("  table factory " + className + " failed: " + t);
            }
        }
        log.printf("  %d table factories (%d failed), %d WITH options%n", factories, failures, result.size());
        return result;
    }

    /**
     * Options that are not configuration keys although no factory returns them: FactoryUtil's
     * (`connector`, `format`, ...: WITH options of every table), SQL hint options
     * (`*HintOptions`), the option maps of SQL functions (`*RuntimeConfigOptions`: ML_PREDICT,
     * VECTOR_SEARCH), connector option holders (`*ConnectorOptions`, `LookupOptions`, the legacy
     * CSV sink's) and the DDL options of catalogs/modules (`Common*Options` keys outside `table.`).
     */
    private static boolean isFactoryUtil(Found f) {
        String cls = declaringClass(f);
        String simple = cls.substring(cls.lastIndexOf('.') + 1);
        String key = f.option.key();
        return cls.equals("org.apache.flink.table.factories.FactoryUtil")
                || simple.endsWith("HintOptions")
                || simple.endsWith("RuntimeConfigOptions")
                || simple.endsWith("ConnectorOptions")
                || cls.equals("org.apache.flink.table.connector.source.lookup.LookupOptions")
                || cls.startsWith("org.apache.flink.table.sinks.")
                || (simple.startsWith("Common") && cls.startsWith("org.apache.flink.table.")
                        && !key.startsWith("table."));
    }

    /** Service implementations named in META-INF/services/<service> of every jar, sorted. */
    private TreeSet<String> serviceProviders(String service) {
        TreeSet<String> names = new TreeSet<>();
        for (Path jar : jars) {
            names.addAll(serviceProviders(jar, service));
        }
        return names;
    }

    private static List<String> serviceProviders(Path jar, String service) {
        List<String> names = new ArrayList<>();
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            ZipEntry e = zip.getEntry("META-INF/services/" + service);
            if (e == null) {
                return names;
            }
            try (InputStream in = zip.getInputStream(e)) {
                for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                    String l = line.replaceAll("#.*", "").trim();
                    if (!l.isEmpty()) {
                        names.add(l);
                    }
                }
            }
        } catch (IOException e) {
            // unreadable jar: no services
        }
        return names;
    }

    // ---------------------------------------------------------------- prefix families

    /** The family templates that the factories in a plugin directory serve. */
    private List<String> pluginFamilies(String origin) {
        List<String> fams = new ArrayList<>();
        for (Map.Entry<Path, String> j : jarOrigin.entrySet()) {
            if (!j.getValue().equals(origin)) {
                continue;
            }
            for (Map.Entry<String, String> s : PLUGIN_SERVICES.entrySet()) {
                if (!serviceProviders(j.getKey(), s.getKey()).isEmpty() && !fams.contains(s.getValue())) {
                    fams.add(s.getValue());
                }
            }
        }
        return fams;
    }

    /**
     * Reporter parameters that are plain strings: `ARG_*` constants of the plugin's classes and
     * the parameter-name constants of its factories (e.g. PrometheusReporterFactory.ARG_PORT).
     */
    private void addPluginParameters() throws IOException {
        for (Map.Entry<Path, String> j : jarOrigin.entrySet()) {
            if (!j.getValue().startsWith("plugin:")) {
                continue;
            }
            String plugin = j.getValue().substring(7);
            TreeSet<String> factoryClasses = new TreeSet<>();
            for (Map.Entry<String, String> s : PLUGIN_SERVICES.entrySet()) {
                List<String> providers = serviceProviders(j.getKey(), s.getKey());
                factoryClasses.addAll(providers);
            }
            List<String> fams = pluginFamilies(j.getValue());
            if (fams.isEmpty()) {
                continue;
            }
            TreeSet<String> classes = new TreeSet<>();
            try (ZipFile zip = new ZipFile(j.getKey().toFile())) {
                var entries = zip.entries();
                while (entries.hasMoreElements()) {
                    String n = entries.nextElement().getName();
                    if (n.endsWith(".class") && n.startsWith("org/apache/flink/") && !n.contains("/shaded/")
                            && !n.contains("$")) {
                        classes.add(n.substring(0, n.length() - 6).replace('/', '.'));
                    }
                }
            }
            for (String className : classes) {
                Class<?> cls;
                Field[] fields;
                try {
                    cls = Class.forName(className, true, loader);
                    fields = cls.getDeclaredFields();
                } catch (Throwable t) {
                    continue;
                }
                boolean factory = factoryClasses.contains(className);
                for (Field f : fields) {
                    int m = f.getModifiers();
                    if (!Modifier.isStatic(m) || !Modifier.isFinal(m) || f.getType() != String.class) {
                        continue;
                    }
                    String name = f.getName();
                    boolean param = name.startsWith("ARG_")
                            || (factory && !name.startsWith("DEFAULT_") && !name.equals("IDENTIFIER"));
                    if (!param) {
                        continue;
                    }
                    String value;
                    try {
                        f.setAccessible(true);
                        value = (String) f.get(null);
                    } catch (Throwable t) {
                        continue;
                    }
                    if (value == null || !PARAM_NAME.matcher(value).matches()) {
                        continue;
                    }
                    for (String fam : fams) {
                        Family family = family(fam + "." + value);
                        family.sources.add("reporter parameters of plugin " + plugin);
                        String rel = value;
                        if (!family.options.containsKey(rel)) {
                            family.options.put(rel, plainParamJson(rel, className, name));
                        }
                    }
                }
            }
        }
    }

    private void addToFamily(String templatedKey, Found f, String source) {
        Family family = family(templatedKey);
        family.sources.add(source);
        String rel = relativeKey(templatedKey);
        if (family.nameSegment == null) {
            // The option only documents the pass-through prefix: its description describes it.
            String d = describe(f.option.description());
            if (!d.isEmpty()) {
                family.description = d;
            }
            return;
        }
        family.options.put(rel, optionJson(rel, List.of(f), f, Collections.emptySet()));
    }

    /** The family of a templated key `a.b.<name>.c.d`: prefix `a.b.`, segment `name`. */
    private Family family(String templatedKey) {
        int lt = templatedKey.indexOf('<');
        int gt = templatedKey.indexOf('>', lt);
        String prefix = templatedKey.substring(0, lt);
        String segment = templatedKey.substring(lt + 1, gt);
        if (templatedKey.substring(gt + 1).isEmpty()) {
            // `flink.hadoop.<key>`: a plain pass-through prefix.
            return families.computeIfAbsent(prefix, k -> new Family(prefix, null, "Passed through: " + prefix + "<" + segment + ">."));
        }
        String id = prefix + "<" + segment + ">";
        return families.computeIfAbsent(id, k -> new Family(prefix, segment, defaultDescription(prefix, segment)));
    }

    private static String relativeKey(String templatedKey) {
        int gt = templatedKey.indexOf('>');
        String rest = templatedKey.substring(gt + 1);
        return rest.startsWith(".") ? rest.substring(1) : rest;
    }

    private static String defaultDescription(String prefix, String segment) {
        switch (prefix) {
            case "metrics.reporter.":
                return "Metric reporter `" + segment + "`: its factory, interval, scope and filter options and "
                        + "any reporter parameter (passed to the reporter as is).";
            case "traces.reporter.":
                return "Trace reporter `" + segment + "`: its factory and options and any reporter parameter.";
            case "events.reporter.":
                return "Event reporter `" + segment + "`: its factory and options and any reporter parameter.";
            default:
                return "Options of each `<" + segment + ">` under `" + prefix + "`.";
        }
    }

    /** Families listed in prefixes.json: a literal prefix, or a Java String/String[] constant. */
    private void addDataFamilies(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("\\{([^{}]*)\\}").matcher(text);
        while (m.find()) {
            String body = m.group(1);
            String from = jsonField(body, "from");
            String literal = jsonField(body, "prefix");
            String description = jsonField(body, "description");
            if (description == null || (from == null) == (literal == null)) {
                throw new IOException("prefixes.json: each entry needs description and one of from/prefix: " + body);
            }
            List<String> prefixes = new ArrayList<>();
            String source;
            if (from != null) {
                int hash = from.indexOf('#');
                try {
                    Field f = Class.forName(from.substring(0, hash), true, loader).getDeclaredField(from.substring(hash + 1));
                    f.setAccessible(true);
                    Object v = f.get(null);
                    if (v instanceof String) {
                        prefixes.add((String) v);
                    } else if (v instanceof String[]) {
                        prefixes.addAll(Arrays.asList((String[]) v));
                    }
                } catch (Throwable t) {
                    log.println("  prefix constant " + from + " not in " + version + ": " + t);
                    continue;
                }
                source = from;
            } else {
                prefixes.add(literal);
                source = "tools/catalog-gen/prefixes.json";
            }
            for (String p : prefixes) {
                Family fam = families.computeIfAbsent(p, k -> new Family(p, null, description));
                fam.sources.add(source);
            }
        }
    }

    private static String jsonField(String body, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(body);
        return m.find() ? m.group(1).replace("\\\"", "\"").replace("\\\\", "\\") : null;
    }

    // ---------------------------------------------------------------- JSON

    private String optionJson(String key, List<Found> decls, Found chosen, Set<String> alsoDeclaredIn) {
        ConfigOption<?> o = chosen.option;
        TreeSet<String> fallback = new TreeSet<>();
        TreeSet<String> deprecated = new TreeSet<>();
        List<String> fallbackOrdered = new ArrayList<>();
        List<String> deprecatedOrdered = new ArrayList<>();
        for (Found d : decls) {
            for (FallbackKey fk : d.option.fallbackKeys()) {
                if (fk.isDeprecated()) {
                    if (deprecated.add(fk.getKey())) {
                        deprecatedOrdered.add(fk.getKey());
                    }
                } else if (fallback.add(fk.getKey())) {
                    fallbackOrdered.add(fk.getKey());
                }
            }
        }
        StringBuilder b = new StringBuilder("{");
        b.append("\"key\":").append(str(key));
        b.append(",\"type\":").append(typeJson(o));
        String overrideDefault = annotationValue(chosen.field, "OverrideDefault");
        String def = overrideDefault != null ? null : formatDefault(o);
        b.append(",\"default\":").append(def == null ? "null" : str(def));
        if (overrideDefault != null) {
            b.append(",\"default_note\":").append(str(overrideDefault));
        }
        // Flink's order of fallback keys is the order it tries them: keep it.
        if (!fallbackOrdered.isEmpty()) {
            b.append(",\"fallback_keys\":").append(strList(fallbackOrdered));
        }
        if (!deprecatedOrdered.isEmpty()) {
            b.append(",\"deprecated_keys\":").append(strList(deprecatedOrdered));
        }
        b.append(",\"deprecated\":").append(isDeprecated(chosen));
        if (annotationValue(chosen.field, "ExcludeFromDocumentation") != null) {
            b.append(",\"hidden\":true");
        }
        b.append(",\"description\":").append(str(describe(o.description())));
        b.append(",\"declared_in\":").append(str(declaringClass(chosen)));
        if (!alsoDeclaredIn.isEmpty()) {
            b.append(",\"also_declared_in\":").append(strList(new ArrayList<>(alsoDeclaredIn)));
        }
        return b.append("}").toString();
    }

    private static String plainParamJson(String key, String className, String field) {
        return "{\"key\":" + str(key) + ",\"type\":{\"kind\":\"string\"},\"default\":null,\"deprecated\":false,"
                + "\"description\":" + str("Reporter parameter read as a string (" + className + "." + field + ").")
                + ",\"declared_in\":" + str(className) + "}";
    }

    private static String familyJson(Family f) {
        StringBuilder b = new StringBuilder("{");
        b.append("\"prefix\":").append(str(f.prefix));
        b.append(",\"description\":").append(str(f.description));
        if (f.nameSegment != null) {
            b.append(",\"name_segment\":").append(str(f.nameSegment));
        }
        b.append(",\"sources\":").append(strList(new ArrayList<>(f.sources)));
        b.append(",\"options\":[");
        boolean first = true;
        for (String o : f.options.values()) {
            b.append(first ? "\n" : ",\n").append(o);
            first = false;
        }
        return b.append("]}").toString();
    }

    private static String typeJson(ConfigOption<?> o) {
        Class<?> clazz;
        boolean isList;
        try {
            Field c = ConfigOption.class.getDeclaredField("clazz");
            Field l = ConfigOption.class.getDeclaredField("isList");
            c.setAccessible(true);
            l.setAccessible(true);
            clazz = (Class<?>) c.get(o);
            isList = l.getBoolean(o);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("ConfigOption has no clazz/isList field", e);
        }
        String element = scalarTypeJson(clazz);
        return isList ? "{\"kind\":\"list\",\"element\":" + element + "}" : element;
    }

    private static String scalarTypeJson(Class<?> c) {
        if (c == Boolean.class) return "{\"kind\":\"boolean\"}";
        if (c == Integer.class) return "{\"kind\":\"integer\"}";
        if (c == Long.class) return "{\"kind\":\"long\"}";
        if (c == Float.class) return "{\"kind\":\"float\"}";
        if (c == Double.class) return "{\"kind\":\"double\"}";
        if (c == String.class) return "{\"kind\":\"string\"}";
        if (c == java.time.Duration.class) return "{\"kind\":\"duration\"}";
        if (c.getName().equals("org.apache.flink.configuration.MemorySize")) return "{\"kind\":\"memory_size\"}";
        if (Map.class.isAssignableFrom(c)) return "{\"kind\":\"map\"}";
        if (c.isEnum()) {
            List<String> names = new ArrayList<>();
            for (Object k : c.getEnumConstants()) {
                names.add(((Enum<?>) k).name());
            }
            return "{\"kind\":\"enum\",\"values\":" + strList(names) + "}";
        }
        return "{\"kind\":\"other\",\"class\":" + str(c.getName()) + "}";
    }

    /**
     * The default in the form Flink's documentation prints it (ConfigOptionsDocGenerator), which is
     * also the flat string form every version parses: durations via TimeUtils.formatWithHighestUnit
     * (`50 s`), memory sizes via MemorySize.toString (`256 mb`), enums by constant name, lists
     * joined with `;`, maps as `k:v,k2:v2` (elements quoted with '...' where they contain a
     * separator, as Flink's StructuredOptionsSplitter expects). Not ConfigurationUtils'
     * convertToString: in 2.x that writes YAML flow style (`[a, b]`), in 1.x the flat form.
     */
    private static String formatDefault(ConfigOption<?> o) {
        if (!o.hasDefaultValue()) {
            return null;
        }
        return formatValue(o.defaultValue());
    }

    private static String formatValue(Object v) {
        if (v instanceof Enum) {
            return ((Enum<?>) v).name();
        }
        if (v instanceof java.time.Duration) {
            try {
                Method m = Class.forName("org.apache.flink.util.TimeUtils")
                        .getMethod("formatWithHighestUnit", java.time.Duration.class);
                return (String) m.invoke(null, v);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("TimeUtils.formatWithHighestUnit", e);
            }
        }
        if (v instanceof List) {
            return ((List<?>) v).stream().map(e -> quote(formatValue(e), ";")).collect(Collectors.joining(";"));
        }
        if (v instanceof Map) {
            return new TreeMap<Object, Object>((Map<?, ?>) v).entrySet().stream()
                    .map(e -> quote(quote(formatValue(e.getKey()), ":") + ":" + quote(formatValue(e.getValue()), ":"), ","))
                    .collect(Collectors.joining(","));
        }
        return String.valueOf(v);
    }

    private static String quote(String s, String separator) {
        if (s.contains(separator) || s.contains("'")) {
            return "'" + s.replace("'", "''") + "'";
        }
        return s;
    }

    /** Flink's docs link to themselves through a Hugo template prefix. */
    private static final String HUGO_DOCS_PREFIX = "{{.Site.BaseURL}}{{.Site.LanguagePrefix}}";

    private static String docsBase;

    /**
     * Plain text of a Description; links into Flink's own docs point at the release's docs
     * (https://nightlies.apache.org/flink/flink-docs-release-MAJOR.MINOR/docs/...).
     */
    private static String describe(Description d) {
        if (d == null) {
            return "";
        }
        String text = new PlainFormatter().format(d).trim();
        return docsBase == null ? text : text.replace(HUGO_DOCS_PREFIX, docsBase);
    }

    private static String declaringClass(Found f) {
        return f.field.getDeclaringClass().getName();
    }

    private static boolean isDeprecated(Found f) {
        return f.field.isAnnotationPresent(Deprecated.class)
                || f.field.getDeclaringClass().isAnnotationPresent(Deprecated.class);
    }

    /** The one @SuffixOption prefix the public fields of a class use, or null (none or several). */
    private static String soleSuffixPrefix(Class<?> cls) {
        Set<String> prefixes = new TreeSet<>();
        for (Field f : cls.getDeclaredFields()) {
            String p = annotationValue(f, "SuffixOption");
            if (p != null) {
                prefixes.add(p);
            }
        }
        return prefixes.size() == 1 ? prefixes.iterator().next() : null;
    }

    /** The value() of a Documentation.<name> annotation on the field, or null. */
    private static String annotationValue(Field field, String name) {
        for (Annotation a : field.getAnnotations()) {
            if (a.annotationType().getName().equals(DOC + name)) {
                try {
                    Object v = a.annotationType().getMethod("value").invoke(a);
                    return v == null ? "" : v.toString();
                } catch (ReflectiveOperationException e) {
                    return "";
                }
            }
        }
        return null;
    }

    private static String strList(List<String> items) {
        return items.stream().map(CatalogGen::str).collect(Collectors.joining(",", "[", "]"));
    }

    static String str(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
            }
        }
        return b.append('"').toString();
    }

    /** Plain-text rendering of a Description: code in backticks, links as "text (url)". */
    static final class PlainFormatter extends Formatter {
        @Override
        protected void formatLink(StringBuilder state, String link, String description) {
            if (description == null || description.isEmpty() || description.equals(link)) {
                state.append(link);
            } else {
                state.append(description).append(" (").append(link).append(')');
            }
        }

        @Override
        protected void formatLineBreak(StringBuilder state) {
            state.append('\n');
        }

        @Override
        protected void formatText(StringBuilder state, String format, String[] elements,
                EnumSet<TextElement.TextStyle> styles) {
            boolean code = styles.contains(TextElement.TextStyle.CODE);
            state.append(code ? "`" : "").append(String.format(format, (Object[]) elements)).append(code ? "`" : "");
        }

        @Override
        protected void formatList(StringBuilder state, String[] entries) {
            for (String e : entries) {
                state.append("\n- ").append(e);
            }
            state.append('\n');
        }

        @Override
        protected Formatter newInstance() {
            return new PlainFormatter();
        }
    }
}
