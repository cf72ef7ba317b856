/**
 * The layering of the program (README, "Development"), kept by a test so that the next feature cannot undo
 * it: no import circle anywhere, no import upward, a core that imports no feature, features that never import
 * the composition, and a policy pack that stands alone.
 *
 *   tools/      the offline plan, verify, bench, clusters, engine harness      may import everything below
 *   index.ts    the program: composes the components                           components/, stacks/
 *   components/ one ComponentResource per file                                 stacks/
 *   stacks/     topology.ts, validate/, config.ts: the composition           features, core
 *               features (security, traffic, observability, hardening, ...)    other features, core
 *               core.ts (mesh and clusters), names, checks, chartValues/       nothing of a feature
 *   policies/   the CrossGuard pack, published on its own                      only policies/
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot } from "../tools/planner";

/** Every TypeScript source of the program and its tools (tests excluded), relative to the repository. */
function sources(): string[] {
    const out: string[] = ["index.ts"];
    const walk = (dir: string) => {
        for (const e of fs.readdirSync(path.join(repoRoot, dir), { withFileTypes: true })) {
            const rel = `${dir}/${e.name}`;
            if (e.isDirectory() && e.name !== "node_modules") walk(rel);
            else if (e.isFile() && e.name.endsWith(".ts")) out.push(rel);
        }
    };
    for (const d of ["stacks", "components", "tools", "policies"]) walk(d);
    return out.sort();
}

/** Each file's imports of other files of the repository (type-only imports included: they are arrows too). */
export function importGraph(files: readonly string[]): Map<string, string[]> {
    const known = new Set(files);
    const graph = new Map<string, string[]>();
    for (const file of files) {
        const text = fs.readFileSync(path.join(repoRoot, file), "utf8");
        const specs = [
            ...text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+"(\.{1,2}\/[^"]*)"/gms),
            ...text.matchAll(/^\s*import\s+"(\.{1,2}\/[^"]*)"/gm),
            ...text.matchAll(/require\("(\.{1,2}\/[^"]*)"\)/g),
        ].map((m) => m[1]!);
        const deps = new Set<string>();
        for (const spec of specs) {
            const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
            const hit = [`${base}.ts`, `${base}/index.ts`, base].find((c) => known.has(c));
            if (hit !== undefined) deps.add(hit);
        }
        graph.set(file, [...deps].sort());
    }
    return graph;
}

/** The strongly connected components of more than one file (Tarjan), plus files importing themselves. */
export function circles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const found: string[][] = [];
    let next = 0;
    const visit = (v: string) => {
        index.set(v, next);
        low.set(v, next++);
        stack.push(v);
        onStack.add(v);
        for (const w of graph.get(v) ?? []) {
            if (!index.has(w)) {
                visit(w);
                low.set(v, Math.min(low.get(v)!, low.get(w)!));
            } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
        }
        if (low.get(v) === index.get(v)) {
            const scc: string[] = [];
            let w: string;
            do {
                w = stack.pop()!;
                onStack.delete(w);
                scc.push(w);
            } while (w !== v);
            if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
        }
    };
    for (const v of graph.keys()) if (!index.has(v)) visit(v);
    return found;
}

const layerOf = (file: string): number =>
    file.startsWith("stacks/") ? 0 : file.startsWith("components/") ? 1 : file === "index.ts" ? 2 : 3;
const composition = (f: string) =>
    ["stacks/topology.ts", "stacks/config.ts"].includes(f) || f.startsWith("stacks/validate/");

describe("architecture", () => {
    const files = sources();
    const graph = importGraph(files);
    const arrows = [...graph].flatMap(([from, tos]) => tos.map((to) => ({ from, to })));

    it("reads the program's import graph (not an empty one)", () => {
        assert.ok(files.length > 60, String(files.length));
        assert.ok(arrows.length > 150, String(arrows.length));
        assert.ok(arrows.some((a) => a.from === "index.ts" && a.to === "stacks/topology.ts"));
    });

    it("has no import circle", () => {
        assert.deepEqual(circles(graph), []);
    });

    it("imports nothing upward: stacks/ < components/ < index.ts < tools/", () => {
        const policies = (f: string) => f.startsWith("policies/");
        const upward = arrows.filter(
            (a) => !policies(a.from) && !policies(a.to) && layerOf(a.to) > layerOf(a.from),
        );
        assert.deepEqual(upward, []);
    });

    it("keeps the core free of features and the features free of the composition", () => {
        assert.deepEqual(graph.get("stacks/core.ts"), []);
        const intoComposition = arrows.filter(
            (a) => composition(a.to) && a.from.startsWith("stacks/") && !composition(a.from),
        );
        assert.deepEqual(intoComposition, []);
    });

    it("keeps the policy pack self-contained: it imports only its own files, and nothing imports it but tools", () => {
        const out = arrows.filter((a) => a.from.startsWith("policies/") && !a.to.startsWith("policies/"));
        assert.deepEqual(out, []);
        const into = arrows.filter(
            (a) =>
                a.to.startsWith("policies/") &&
                !a.from.startsWith("policies/") &&
                !a.from.startsWith("tools/"),
        );
        assert.deepEqual(into, []);
    });

    it("holds no source file a reader cannot hold: at most 600 lines each", () => {
        const long = files
            .map((f) => [f, fs.readFileSync(path.join(repoRoot, f), "utf8").split("\n").length] as const)
            .filter(([, lines]) => lines > 600);
        assert.deepEqual(long, []);
    });

    it("finds a circle and an upward arrow when there is one (the checks can fail)", () => {
        const g = new Map([
            ["stacks/a.ts", ["stacks/b.ts"]],
            ["stacks/b.ts", ["components/c.ts"]],
            ["components/c.ts", ["stacks/a.ts"]],
        ]);
        assert.deepEqual(circles(g), [["components/c.ts", "stacks/a.ts", "stacks/b.ts"]]);
        assert.ok(layerOf("components/c.ts") > layerOf("stacks/b.ts"));
    });
});
