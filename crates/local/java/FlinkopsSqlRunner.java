/*
 * flinkops SQL runner: runs a SQL script as one Flink job. Shipped as source by flinkops and
 * compiled with javac against the chosen Flink's lib/ on first use.
 *
 * Usage (program arguments): --script <SQL text> | --script-base64 <base64 SQL text>
 *   [--parallelism-by-name-base64 <base64 of UTF-8 lines "<stable vertex name>\t<parallelism>">]
 *
 * `SET 'key' = 'value';` statements are applied to the job's configuration; every other
 * statement runs in order; INSERT statements are collected into one statement set so that the
 * script becomes one job. SELECT and other statements that would print results are refused.
 *
 * Parallelism by name: a vertex's stable name is its name without the SQL planner's node
 * numbers (`GroupAggregate[8] -> snk[9]: Writer` is `GroupAggregate -> snk: Writer`); they
 * survive a resubmission, unlike the numbers and the vertex ids. With the argument the job is
 * built as a StreamGraph whose operators (StreamNodes) get the parallelism of the listed vertex
 * their stable name is part of, before the graph is chained into vertices and submitted.
 */
package io.flinkops.sqlrunner;

import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamEdge;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.apache.flink.streaming.api.operators.StreamOperatorFactory;
import org.apache.flink.streaming.api.operators.UdfStreamOperatorFactory;
import org.apache.flink.streaming.runtime.partitioner.ForwardPartitioner;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.StatementSet;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.bridge.java.StreamStatementSet;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

public final class FlinkopsSqlRunner {
    private static final Pattern SET =
            Pattern.compile("(?is)^SET\\s+'([^']+)'\\s*=\\s*'((?:[^']|'')*)'\\s*$");
    private static final Pattern RESET = Pattern.compile("(?is)^RESET(\\s+'[^']*')?\\s*$");
    /** The SQL planner's node numbers: `[8]` in `GroupAggregate[8]`. */
    private static final Pattern NODE_NUMBER = Pattern.compile("\\[[0-9]+\\]");
    private static final String PREFIX = "flinkops-sql-runner: ";
    private static final Logger LOG = LoggerFactory.getLogger(FlinkopsSqlRunner.class);

    public static void main(String[] args) throws Exception {
        String script = null;
        String parallelismByName = null;
        for (int i = 0; i + 1 < args.length; i += 2) {
            if ("--script".equals(args[i])) {
                script = args[i + 1];
            } else if ("--script-base64".equals(args[i])) {
                script = new String(Base64.getDecoder().decode(args[i + 1]), StandardCharsets.UTF_8);
            } else if ("--parallelism-by-name-base64".equals(args[i])) {
                parallelismByName = new String(Base64.getDecoder().decode(args[i + 1]), StandardCharsets.UTF_8);
            }
        }
        if (script == null) {
            throw new IllegalArgumentException("flinkops SQL runner: pass --script <SQL> or --script-base64 <b64>");
        }
        List<String> statements = split(script);
        if (statements.isEmpty()) {
            throw new IllegalArgumentException("flinkops SQL runner: the script has no statements");
        }
        // Apply SET statements first so that they shape the environment the job is built in.
        org.apache.flink.configuration.Configuration conf = new org.apache.flink.configuration.Configuration();
        List<String> rest = new ArrayList<>();
        for (String s : statements) {
            Matcher m = SET.matcher(s);
            if (m.matches()) {
                conf.setString(m.group(1), m.group(2).replace("''", "'"));
            } else if (RESET.matcher(s).matches()) {
                throw new IllegalArgumentException("flinkops SQL runner: RESET is not supported: " + s);
            } else {
                rest.add(s);
            }
        }
        EnvironmentSettings settings = EnvironmentSettings.newInstance().inStreamingMode().withConfiguration(conf).build();
        if (parallelismByName == null) {
            TableEnvironment tEnv = TableEnvironment.create(settings);
            StatementSet inserts = tEnv.createStatementSet();
            addStatements(tEnv, inserts, rest);
            TableResult result = inserts.execute();
            result.getJobClient().ifPresent(c -> System.out.println("flinkops-sql-runner: submitted job " + c.getJobID()));
            return;
        }
        // Parallelism by name: the same statements, but the job is built as a StreamGraph (the
        // SET configuration shapes the environment directly: job name, checkpointing, ...) whose
        // operators get their parallelism before Flink chains them into vertices.
        List<Wanted> wanted = parseParallelismByName(parallelismByName);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        StreamTableEnvironment tEnv = StreamTableEnvironment.create(env, settings);
        StreamStatementSet inserts = tEnv.createStatementSet();
        addStatements(tEnv, inserts, rest);
        inserts.attachAsDataStream();
        StreamGraph graph = env.getStreamGraph();
        applyParallelismByName(graph, wanted);
        // Asynchronous like the statement set's execute() above: the run request returns once
        // the job is submitted.
        JobClient client = env.executeAsync(graph);
        say("submitted job " + client.getJobID());
    }

    /** Runs DDL, collects the INSERTs into `inserts`; refuses statements that print results. */
    private static void addStatements(TableEnvironment tEnv, StatementSet inserts, List<String> statements) {
        int insertCount = 0;
        for (String s : statements) {
            String head = firstWord(s);
            if (head.equals("INSERT") || (head.equals("EXECUTE") && s.toUpperCase(Locale.ROOT).contains("INSERT"))) {
                String sql = head.equals("EXECUTE") ? s.replaceFirst("(?is)^EXECUTE\\s+", "") : s;
                inserts.addInsertSql(sql);
                insertCount++;
            } else if (head.equals("SELECT") || head.equals("WITH") || head.equals("SHOW") || head.equals("DESCRIBE") || head.equals("EXPLAIN")) {
                throw new IllegalArgumentException("flinkops SQL runner: only DDL, SET and INSERT statements can run as a job; not: " + abbreviate(s));
            } else {
                tEnv.executeSql(s);
            }
        }
        if (insertCount == 0) {
            throw new IllegalArgumentException("flinkops SQL runner: the script has no INSERT statement, so there is no job to run");
        }
    }

    /** One line of --parallelism-by-name-base64: a stable vertex name and its parallelism. */
    static final class Wanted {
        final String vertex;
        /** The stable names of the vertex's chained operators (its name split at ` -> `). */
        final String[] operators;
        final int parallelism;
        boolean matched;

        Wanted(String vertex, int parallelism) {
            this.vertex = vertex;
            this.operators = vertex.split(" -> ");
            this.parallelism = parallelism;
        }
    }

    /** A name without the planner's node numbers (the rule of flinkops' `stable_name`). */
    static String stableName(String name) {
        return NODE_NUMBER.matcher(name).replaceAll("");
    }

    /** Lines `<stable vertex name>\t<parallelism>`; the last tab separates them. */
    static List<Wanted> parseParallelismByName(String text) {
        List<Wanted> out = new ArrayList<>();
        for (String line : text.split("\r?\n")) {
            if (line.trim().isEmpty()) {
                continue;
            }
            int tab = line.lastIndexOf('\t');
            int p = -1;
            if (tab > 0) {
                try {
                    p = Integer.parseInt(line.substring(tab + 1).trim());
                } catch (NumberFormatException e) {
                    p = -1;
                }
            }
            if (p < 1) {
                say("ignoring the parallelism line '" + line + "' (not <vertex name>TAB<parallelism >= 1>)");
                continue;
            }
            out.add(new Wanted(stableName(line.substring(0, tab)), p));
        }
        return out;
    }

    /**
     * Sets the parallelism of the graph's operators from the listed vertices.
     *
     * <p>A listed name is first read as the chain of operators it names, the way Flink names a
     * vertex: `A -> B` (B chained to A), `A -> (B -> C, D)` (B and D chained to A). Every chain
     * of operators in the graph that reads so takes the parallelism. A name that names no
     * chain (the plan changed) falls back to its operators one by one: an operator whose stable
     * name is one of the name's ` -> `-separated parts, with its graph neighbours next to it in
     * the name as well, takes it (those chains of the name that still hold).
     *
     * <p>Operators connected by forward edges (those Flink can chain into one vertex) change
     * together, since a forward edge needs equal parallelism on both ends; asked for different
     * parallelisms, they take the largest (the vertex that needs it most gets it). Never above a max
     * parallelism the planner set (singleton operators such as a global aggregate have max
     * parallelism 1) and never for a non-parallel legacy source: Flink guards neither when a
     * StreamNode's parallelism is set.
     */
    static void applyParallelismByName(StreamGraph graph, List<Wanted> wanted) {
        Map<Integer, StreamNode> nodes = new LinkedHashMap<>();
        for (StreamNode n : graph.getStreamNodes()) {
            nodes.put(n.getId(), n);
        }
        Map<Integer, Set<Integer>> asked = new HashMap<>();
        for (Wanted w : wanted) {
            for (StreamNode head : nodes.values()) {
                List<StreamNode> chain = new ArrayList<>();
                if (readChain(graph, head, w.vertex, 0, chain) == w.vertex.length()) {
                    w.matched = true;
                    for (StreamNode n : chain) {
                        asked.computeIfAbsent(n.getId(), k -> new TreeSet<>()).add(w.parallelism);
                    }
                }
            }
        }
        Set<Integer> inChains = new LinkedHashSet<>(asked.keySet());
        for (Wanted w : wanted) {
            if (w.matched) {
                continue;
            }
            for (StreamNode n : nodes.values()) {
                if (inChains.contains(n.getId())) {
                    continue;
                }
                String op = stableName(n.getOperatorName());
                for (int i = 0; i < w.operators.length; i++) {
                    if (w.operators[i].equals(op) && neighboursMatch(graph, n, w.operators, i)) {
                        w.matched = true;
                        asked.computeIfAbsent(n.getId(), k -> new TreeSet<>()).add(w.parallelism);
                    }
                }
            }
        }
        for (List<StreamNode> group : forwardGroups(nodes)) {
            TreeSet<Integer> ps = new TreeSet<>();
            for (StreamNode n : group) {
                ps.addAll(asked.getOrDefault(n.getId(), Set.of()));
            }
            if (ps.isEmpty()) {
                continue;
            }
            String names = operatorNames(group);
            int p = ps.last();
            if (ps.size() > 1) {
                say("operators that must run at one parallelism were asked for " + ps + ": " + names + "; using the largest");
            }
            int max = Integer.MAX_VALUE;
            boolean fixed = false;
            for (StreamNode n : group) {
                int m = maxParallelism(n);
                if (m > 0) {
                    max = Math.min(max, m);
                }
                fixed |= nonParallelSource(n);
            }
            if (fixed) {
                say("not changing the parallelism of " + names + ": a non-parallel source runs at parallelism 1");
                continue;
            }
            if (p > max) {
                say("parallelism " + p + " for " + names + " is above their max parallelism " + max + "; using " + max);
                p = max;
            }
            for (StreamNode n : group) {
                n.setParallelism(p);
            }
            say("parallelism " + p + " for " + names);
        }
        for (Wanted w : wanted) {
            if (!w.matched) {
                say("no operator of this job is part of the vertex '" + w.vertex + "'; ignored");
            }
        }
    }

    /**
     * Reads `name` from `pos` as the chain that starts at `n`; returns where the chain's text
     * ends (-1: it does not read so) and collects its operators into `chain`.
     */
    private static int readChain(StreamGraph graph, StreamNode n, String name, int pos, List<StreamNode> chain) {
        String op = stableName(n.getOperatorName());
        if (op.isEmpty() || !name.startsWith(op, pos)) {
            return -1;
        }
        int at = pos + op.length();
        int size = chain.size();
        chain.add(n);
        if (name.startsWith(" -> (", at)) {
            at += 5;
            Set<Integer> used = new HashSet<>();
            while (true) {
                int end = -1;
                for (StreamEdge e : n.getOutEdges()) {
                    if (!used.contains(e.getTargetId())) {
                        int mark = chain.size();
                        end = readChain(graph, graph.getStreamNode(e.getTargetId()), name, at, chain);
                        if (end >= 0 && (name.startsWith(", ", end) || name.startsWith(")", end))) {
                            used.add(e.getTargetId());
                            break;
                        }
                        end = -1;
                        chain.subList(mark, chain.size()).clear();
                    }
                }
                if (end < 0) {
                    chain.subList(size, chain.size()).clear();
                    return -1;
                }
                if (name.startsWith(")", end)) {
                    return end + 1;
                }
                at = end + 2;
            }
        }
        if (name.startsWith(" -> ", at)) {
            for (StreamEdge e : n.getOutEdges()) {
                int mark = chain.size();
                int end = readChain(graph, graph.getStreamNode(e.getTargetId()), name, at + 4, chain);
                if (end >= 0) {
                    return end;
                }
                chain.subList(mark, chain.size()).clear();
            }
            chain.subList(size, chain.size()).clear();
            return -1;
        }
        return at;
    }

    /** Whether the operators next to `n` in the graph are those next to position `i` of `ops`. */
    private static boolean neighboursMatch(StreamGraph graph, StreamNode n, String[] ops, int i) {
        boolean before = i == 0;
        for (StreamEdge e : n.getInEdges()) {
            before |= i > 0 && ops[i - 1].equals(stableName(graph.getStreamNode(e.getSourceId()).getOperatorName()));
        }
        boolean after = i == ops.length - 1;
        for (StreamEdge e : n.getOutEdges()) {
            after |= i + 1 < ops.length && ops[i + 1].equals(stableName(graph.getStreamNode(e.getTargetId()).getOperatorName()));
        }
        return before && after;
    }

    /** The graph's operators grouped by forward edges (connected components). */
    private static List<List<StreamNode>> forwardGroups(Map<Integer, StreamNode> nodes) {
        Map<Integer, Integer> parent = new HashMap<>();
        for (Integer id : nodes.keySet()) {
            parent.put(id, id);
        }
        for (StreamNode n : nodes.values()) {
            for (StreamEdge e : n.getOutEdges()) {
                if (e.getPartitioner() instanceof ForwardPartitioner && parent.containsKey(e.getTargetId())) {
                    parent.put(root(parent, e.getSourceId()), root(parent, e.getTargetId()));
                }
            }
        }
        Map<Integer, List<StreamNode>> groups = new LinkedHashMap<>();
        for (StreamNode n : nodes.values()) {
            groups.computeIfAbsent(root(parent, n.getId()), k -> new ArrayList<>()).add(n);
        }
        return new ArrayList<>(groups.values());
    }

    private static int root(Map<Integer, Integer> parent, int id) {
        int r = id;
        while (parent.get(r) != r) {
            r = parent.get(r);
        }
        return r;
    }

    private static String operatorNames(List<StreamNode> group) {
        Set<String> names = new LinkedHashSet<>();
        for (StreamNode n : group) {
            names.add("'" + n.getOperatorName() + "'");
        }
        return String.join(", ", names);
    }

    /** The max parallelism the job set for the operator, -1 if none. The getter is
     * package-private in Flink 1.20 (public in 2.x), hence reflection. */
    private static int maxParallelism(StreamNode n) {
        try {
            Method m = StreamNode.class.getDeclaredMethod("getMaxParallelism");
            m.setAccessible(true);
            return (Integer) m.invoke(n);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return -1;
        }
    }

    /** A legacy SourceFunction that is not a ParallelSourceFunction (package `...source` in
     * Flink 1.x, `...source.legacy` in 2.x): only one instance may run. */
    private static boolean nonParallelSource(StreamNode n) {
        StreamOperatorFactory<?> f = n.getOperatorFactory();
        if (!(f instanceof UdfStreamOperatorFactory)) {
            return false;
        }
        Object fn = ((UdfStreamOperatorFactory<?>) f).getUserFunction();
        return fn != null && hasType(fn.getClass(), "SourceFunction") && !hasType(fn.getClass(), "ParallelSourceFunction");
    }

    private static boolean hasType(Class<?> c, String simpleName) {
        if (c == null) {
            return false;
        }
        String n = c.getName();
        if (n.equals("org.apache.flink.streaming.api.functions.source." + simpleName)
                || n.equals("org.apache.flink.streaming.api.functions.source.legacy." + simpleName)) {
            return true;
        }
        if (hasType(c.getSuperclass(), simpleName)) {
            return true;
        }
        return Arrays.stream(c.getInterfaces()).anyMatch(i -> hasType(i, simpleName));
    }

    /** To stdout (a client running the program sees it) and to the log (of the JobManager,
     * when the program runs there through the REST API, which swallows stdout). */
    private static void say(String line) {
        System.out.println(PREFIX + line);
        LOG.info(PREFIX + line);
    }

    private static String firstWord(String s) {
        String t = s.trim();
        int i = 0;
        while (i < t.length() && Character.isLetter(t.charAt(i))) {
            i++;
        }
        return t.substring(0, i).toUpperCase(Locale.ROOT);
    }

    private static String abbreviate(String s) {
        String t = s.trim().replaceAll("\\s+", " ");
        return t.length() > 80 ? t.substring(0, 77) + "..." : t;
    }

    /** Splits a script at semicolons outside quotes, identifiers in backticks and comments. */
    static List<String> split(String script) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        int n = script.length();
        for (int i = 0; i < n; i++) {
            char c = script.charAt(i);
            char next = i + 1 < n ? script.charAt(i + 1) : '\0';
            if (c == '-' && next == '-') {
                while (i < n && script.charAt(i) != '\n') {
                    i++;
                }
                cur.append('\n');
            } else if (c == '/' && next == '*') {
                i += 2;
                while (i + 1 < n && !(script.charAt(i) == '*' && script.charAt(i + 1) == '/')) {
                    i++;
                }
                i++;
                cur.append(' ');
            } else if (c == '\'' || c == '"' || c == '`') {
                cur.append(c);
                i++;
                while (i < n) {
                    char d = script.charAt(i);
                    cur.append(d);
                    if (d == c) {
                        if (i + 1 < n && script.charAt(i + 1) == c) {
                            cur.append(c);
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i++;
                }
            } else if (c == ';') {
                add(out, cur);
            } else {
                cur.append(c);
            }
        }
        add(out, cur);
        return out;
    }

    private static void add(List<String> out, StringBuilder cur) {
        String s = cur.toString().trim();
        if (!s.isEmpty()) {
            out.add(s);
        }
        cur.setLength(0);
    }
}
