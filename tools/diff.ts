/**
 * The offline plan diff: what a change adds, removes and modifies, per cluster, between two plan documents
 * (`npm run plan -- --json`), with the input paths that changed. It compares the documents as the plan shows
 * them, so a secret is `[secret]` on both sides: a diff never carries key material, and a change inside a
 * secret shows only through what depends on it.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PlanRefused, repoRoot } from "./planner";

/** A resource as the plan document lists it. */
export interface DocResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly parent: string | null;
    readonly cluster: string | null;
    readonly dependsOn: readonly string[];
    readonly inputs: Record<string, unknown>;
    readonly read?: string;
}

/** A policy result as the plan document lists it. */
export interface DocViolation {
    readonly policy: string;
    readonly level: string;
    readonly urn: string;
    readonly message: string;
}

/** The plan document (`npm run plan -- --json`). */
export interface PlanDoc {
    readonly stack: string;
    readonly resources: readonly DocResource[];
    readonly policy?: readonly DocViolation[];
}

/** One changed leaf: its path (`values.pilot.replicaCount`), and the value before and after (absent: undefined). */
export interface InputChange {
    readonly path: string;
    readonly before?: unknown;
    readonly after?: unknown;
}

/** One resource that changes. */
export interface ResourceChange {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    /** Only for `modify`: what changed, in path order. */
    readonly changes?: readonly InputChange[];
}

/** The changes in one section: a cluster, or (null) what lives outside any one cluster. */
export interface SectionDiff {
    readonly cluster: string | null;
    /** `added`/`removed`: the whole cluster is new or gone; `changed`: it is in both plans. */
    readonly status: "added" | "removed" | "changed";
    readonly added: readonly ResourceChange[];
    readonly removed: readonly ResourceChange[];
    readonly modified: readonly ResourceChange[];
}

/** The diff of two plans of one stack. */
export interface PlanDiff {
    readonly stack: string;
    /** What the base was (a file, or a git ref and its commit). */
    readonly base: string;
    readonly counts: {
        readonly add: number;
        readonly remove: number;
        readonly modify: number;
        readonly same: number;
    };
    readonly sections: readonly SectionDiff[];
    /** The new plan's policy results, each marked new when the base did not report it. */
    readonly policy: readonly (DocViolation & { readonly new: boolean })[];
    /** Policy results of the base that the new plan no longer reports. */
    readonly resolved: readonly DocViolation[];
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The section each resource belongs to: its own cluster, or for a component the one cluster all it
 * contains lives in; null when that is none or several (the CA, a link between clusters).
 */
function sectionsOf(doc: PlanDoc): Map<string, string | null> {
    const children = new Map<string, DocResource[]>();
    for (const r of doc.resources) {
        if (r.parent === null) continue;
        children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
    }
    const clusters = new Map<string, Set<string | null>>();
    const collect = (r: DocResource): Set<string | null> => {
        const known = clusters.get(r.urn);
        if (known) return known;
        const own = new Set<string | null>();
        clusters.set(r.urn, own);
        const kids = children.get(r.urn) ?? [];
        if (kids.length === 0) own.add(r.cluster);
        for (const c of kids) for (const s of collect(c)) own.add(s);
        return own;
    };
    const out = new Map<string, string | null>();
    for (const r of doc.resources) {
        const s = r.cluster !== null ? new Set([r.cluster]) : collect(r);
        out.set(r.urn, s.size === 1 ? [...s][0]! : null);
    }
    return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Leaf-level changes between two values; arrays of different length or of scalars compare whole. */
export function inputChanges(before: unknown, after: unknown, at = ""): InputChange[] {
    if (JSON.stringify(before) === JSON.stringify(after)) return [];
    const join = (k: string) => (at === "" ? k : `${at}.${k}`);
    if (isPlainObject(before) && isPlainObject(after)) {
        const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort(byString);
        return keys.flatMap((k) => inputChanges(before[k], after[k], join(k)));
    }
    if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
        return before.flatMap((b, i) => inputChanges(b, after[i], `${at}[${i}]`));
    }
    return [
        {
            path: at,
            ...(before !== undefined ? { before } : {}),
            ...(after !== undefined ? { after } : {}),
        },
    ];
}

/** Compares two plan documents of one stack. */
export function diffPlans(base: PlanDoc, head: PlanDoc, baseLabel: string): PlanDiff {
    const baseBy = new Map(base.resources.map((r) => [r.urn, r]));
    const headBy = new Map(head.resources.map((r) => [r.urn, r]));
    const baseSections = sectionsOf(base);
    const headSections = sectionsOf(head);
    const sections = new Map<
        string | null,
        { added: ResourceChange[]; removed: ResourceChange[]; modified: ResourceChange[] }
    >();
    const section = (s: string | null) => {
        let x = sections.get(s);
        if (!x) sections.set(s, (x = { added: [], removed: [], modified: [] }));
        return x;
    };
    const brief = (r: DocResource): ResourceChange => ({ urn: r.urn, type: r.type, name: r.name });
    let same = 0;
    for (const r of head.resources) {
        const old = baseBy.get(r.urn);
        if (!old) {
            section(headSections.get(r.urn) ?? null).added.push(brief(r));
            continue;
        }
        const changes = [
            ...inputChanges(old.inputs, r.inputs),
            ...inputChanges(old.dependsOn, r.dependsOn, "dependsOn"),
            ...inputChanges(old.parent, r.parent, "parent"),
            ...inputChanges(old.read, r.read, "read"),
        ];
        if (changes.length === 0) same++;
        else section(headSections.get(r.urn) ?? null).modified.push({ ...brief(r), changes });
    }
    for (const r of base.resources) {
        if (!headBy.has(r.urn)) section(baseSections.get(r.urn) ?? null).removed.push(brief(r));
    }
    const baseClusters = new Set(base.resources.map((r) => r.cluster).filter((c) => c !== null));
    const headClusters = new Set(head.resources.map((r) => r.cluster).filter((c) => c !== null));
    const order = [...sections.keys()].sort((a, b) => (a === null ? 1 : b === null ? -1 : byString(a, b)));
    const byUrn = (a: ResourceChange, b: ResourceChange) => byString(a.urn, b.urn);
    const key = (v: DocViolation) => JSON.stringify([v.policy, v.level, v.urn, v.message]);
    const basePolicy = new Set((base.policy ?? []).map(key));
    const headPolicy = new Set((head.policy ?? []).map(key));
    const counts = { add: 0, remove: 0, modify: 0, same };
    const out: SectionDiff[] = order.map((cluster) => {
        const s = sections.get(cluster)!;
        counts.add += s.added.length;
        counts.remove += s.removed.length;
        counts.modify += s.modified.length;
        const status =
            cluster === null || (baseClusters.has(cluster) && headClusters.has(cluster))
                ? "changed"
                : headClusters.has(cluster)
                  ? "added"
                  : "removed";
        return {
            cluster,
            status,
            added: s.added.sort(byUrn),
            removed: s.removed.sort(byUrn),
            modified: s.modified.sort(byUrn),
        };
    });
    return {
        stack: head.stack,
        base: baseLabel,
        counts,
        sections: out,
        policy: (head.policy ?? []).map((v) => ({ ...v, new: !basePolicy.has(key(v)) })),
        resolved: (base.policy ?? []).filter((v) => !headPolicy.has(key(v))),
    };
}

/** The hidden marker that identifies a stack's comment on a pull request, so the workflow updates it. */
export const commentMarker = (stack: string) => `<!-- istio-multicluster plan diff: ${stack} -->`;

const text = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

/** A value as one line of Markdown code: JSON, cut at `max` characters, never breaking the code span. */
function code(v: unknown, max = 80, from = 0): string {
    let s = text(v);
    const start = from > 0 && s.length > max ? Math.min(from, s.length - max) : 0;
    if (s.length - start > max) s = `${s.slice(start, start + max)}…`;
    else if (start > 0) s = s.slice(start);
    if (start > 0) s = `…${s}`;
    s = s.replace(/[\r\n\t]/g, " ");
    const ticks = "`".repeat(Math.max(0, ...[...s.matchAll(/`+/g)].map((m) => m[0].length)) + 1);
    const pad = s.startsWith("`") || s.endsWith("`") ? " " : "";
    return `${ticks}${pad}${s}${pad}${ticks}`;
}

/** The index of the first character at which two texts differ (the shorter's length if one is a prefix). */
export function firstDifference(a: string, b: string): number {
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    return i;
}

/** The diff as a pull-request comment: summary, one section per cluster, policies, then the topology. */
export function renderDiffMarkdown(d: PlanDiff, mermaid: string): string {
    const { add, remove, modify, same } = d.counts;
    const lines = [
        commentMarker(d.stack),
        "",
        `### Offline plan of stack \`${d.stack}\` against ${d.base}`,
        "",
        add + remove + modify === 0
            ? `**No changes** (${same} resources unchanged).`
            : `**${add} to add, ${modify} to modify, ${remove} to remove** (${same} unchanged).`,
    ];
    const item = (sign: string, r: ResourceChange) => `- ${sign} ${code(r.name)} (${code(r.type)})`;
    for (const s of d.sections) {
        const title =
            s.cluster === null
                ? "Outside any one cluster"
                : `Cluster ${code(s.cluster)}${s.status === "changed" ? "" : ` (${s.status})`}`;
        lines.push("", `#### ${title}`, "");
        for (const r of s.added) lines.push(item("➕ add", r));
        for (const r of s.removed) lines.push(item("➖ remove", r));
        for (const r of s.modified) {
            lines.push(item("✏️ modify", r));
            for (const c of r.changes ?? []) {
                // Long values are shown from a little before where they first differ: two lists that share
                // their first 80 characters would otherwise read the same on both sides.
                const from =
                    "before" in c && "after" in c
                        ? Math.max(0, firstDifference(text(c.before), text(c.after)) - 20)
                        : 0;
                const before = "before" in c ? code(c.before, 80, from) : "_absent_";
                const after = "after" in c ? code(c.after, 80, from) : "_absent_";
                lines.push(`  - ${code(c.path)}: ${before} → ${after}`);
            }
        }
    }
    lines.push("", "#### Policies", "");
    if (d.policy.length === 0) lines.push("No violations.");
    for (const v of d.policy) {
        lines.push(
            `- ${v.new ? "**new** " : ""}${v.level} \`${v.policy}\` on ${code(v.urn.split("::").pop() ?? v.urn)}: ${v.message}`,
        );
    }
    for (const v of d.resolved) {
        lines.push(`- resolved: ${v.level} \`${v.policy}\` on ${code(v.urn.split("::").pop() ?? v.urn)}`);
    }
    lines.push("", "#### Topology", "", "```mermaid", mermaid.trimEnd(), "```", "");
    return lines.join("\n");
}

/** Reads a base plan document from a file (`npm run plan -- --json > base.json`). */
export function readPlanDoc(file: string): PlanDoc {
    let doc: unknown;
    try {
        doc = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new PlanRefused(`--diff ${file}: ${(e as Error).message}`, []);
    }
    const notPlan = (why: string) =>
        new PlanRefused(`--diff ${file}: not a plan document (npm run plan -- --json): ${why}`, []);
    if (!isPlainObject(doc) || typeof doc.stack !== "string" || !Array.isArray(doc.resources)) {
        throw notPlan("it needs `stack` and `resources`");
    }
    const nullableString = (v: unknown) => v === null || typeof v === "string";
    doc.resources.forEach((r: unknown, i) => {
        const ok =
            isPlainObject(r) &&
            typeof r.urn === "string" &&
            typeof r.type === "string" &&
            typeof r.name === "string" &&
            nullableString(r.parent) &&
            nullableString(r.cluster) &&
            Array.isArray(r.dependsOn) &&
            r.dependsOn.every((d) => typeof d === "string") &&
            isPlainObject(r.inputs);
        if (!ok) throw notPlan(`resources[${i}] is not a planned resource`);
    });
    const policy = doc.policy;
    if (policy !== undefined) {
        const ok =
            Array.isArray(policy) &&
            policy.every(
                (v) =>
                    isPlainObject(v) &&
                    ["policy", "level", "urn", "message"].every((k) => typeof v[k] === "string"),
            );
        if (!ok) throw notPlan("`policy` is not a list of policy results");
    }
    return doc as unknown as PlanDoc;
}

function git(args: string[], cwd = repoRoot): { ok: boolean; out: string; err: string } {
    const r = spawnSync("git", args, { cwd, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    return { ok: r.status === 0, out: r.stdout ?? "", err: (r.stderr ?? "").trim() || String(r.error ?? "") };
}

/** The commit a git ref names in this checkout, or undefined when it names none. */
export function resolveCommit(ref: string): string | undefined {
    if (ref.startsWith("-")) return undefined;
    const r = git(["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`]);
    return r.ok ? r.out.trim() : undefined;
}

/**
 * Plans the program as it was at `commit`: the commit's tree, exported with `git archive` into a temporary
 * directory (nothing in this checkout or its git state changes), this checkout's node_modules linked beside
 * it, and the commit's own planner run there. The stack is the commit's `Pulumi.<stack>.yaml` (an absent one
 * is an empty base: the stack is new), or for `--config`, the same file as the new plan.
 */
/** The plan JSON a `plan --json` printed; undefined when it printed none. */
function parsePlanDoc(stdout: string): PlanDoc | undefined {
    try {
        const doc = JSON.parse(stdout) as Partial<PlanDoc> | null;
        return doc !== null && typeof doc === "object" && Array.isArray(doc.resources)
            ? (doc as PlanDoc)
            : undefined;
    } catch {
        return undefined;
    }
}

export function planAtCommit(commit: string, target: { stack: string } | { config: string }): PlanDoc {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-base-"));
    try {
        const archive = path.join(dir, "base.tar");
        const a = git(["archive", "--format=tar", "-o", archive, commit]);
        if (!a.ok) throw new PlanRefused(`--diff: git archive ${commit} failed: ${a.err}`, []);
        const tree = path.join(dir, "tree");
        fs.mkdirSync(tree);
        const t = spawnSync("tar", ["-xf", archive, "-C", tree], { encoding: "utf8" });
        if (t.status !== 0) throw new PlanRefused(`--diff: unpacking ${commit} failed: ${t.stderr}`, []);
        // A committed node_modules (a symlink, say) is replaced. The base runs on this checkout's packages when
        // it locks the same ones; a base that locks others (before an SDK upgrade, say: its planner checks the
        // exact @pulumi/pulumi it was written for) gets its own, installed from its lockfile.
        fs.rmSync(path.join(tree, "node_modules"), { recursive: true, force: true });
        const lock = (root: string) => {
            const f = path.join(root, "package-lock.json");
            return fs.existsSync(f) ? fs.readFileSync(f, "utf8") : undefined;
        };
        if (lock(tree) !== undefined && lock(tree) !== lock(repoRoot)) {
            process.stderr.write(
                `--diff: ${commit.slice(0, 12)} locks other packages: installing them (npm ci)\n`,
            );
            const npm = spawnSync(
                "npm",
                ["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"],
                {
                    cwd: tree,
                    encoding: "utf8",
                    maxBuffer: 64 * 1024 * 1024,
                },
            );
            if (npm.status !== 0) {
                const why = (npm.stderr || String(npm.error ?? "")).trim().split("\n").slice(-10).join("\n");
                throw new PlanRefused(`--diff: npm ci for ${commit.slice(0, 12)} failed:\n${why}`, []);
            }
        } else {
            fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(tree, "node_modules"), "dir");
        }
        if ("stack" in target && !fs.existsSync(path.join(tree, `Pulumi.${target.stack}.yaml`))) {
            return { stack: target.stack, resources: [], policy: [] };
        }
        const args =
            "stack" in target ? ["--stack", target.stack] : ["--config", path.resolve(target.config)];
        const r = spawnSync(process.execPath, ["--import", "tsx", "tools/plan.ts", ...args, "--json"], {
            cwd: tree,
            encoding: "utf8",
            maxBuffer: 256 * 1024 * 1024,
        });
        // A mandatory violation still prints the plan (its exit code was 2 before tools/exitCodes.ts, 1 since);
        // the base's violations are part of the diff. So the plan printed, not the exit code, says it worked.
        const doc = r.status === 0 || r.status === 1 || r.status === 2 ? parsePlanDoc(r.stdout) : undefined;
        if (doc === undefined) {
            const why = (r.stderr || String(r.error ?? "")).trim().split("\n").slice(0, 20).join("\n");
            throw new PlanRefused(
                `--diff: the program at ${commit.slice(0, 12)} could not be planned:\n${why}`,
                [],
            );
        }
        return doc;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
