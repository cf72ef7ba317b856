/**
 * One stack of the project under the real Pulumi CLI (tools/engine/pulumi.ts) against local clusters: its
 * own project folder, state and PULUMI_HOME under the clusters' folder, the mesh PKI made with openssl and set
 * as secrets from standard input, the Istio charts of ../shared as released. Every command's output is kept,
 * so the tests can read what a user would have seen (and search it for secrets).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { releasedCharts } from "../../../tools/engine/charts";
import { makeMeshPki, MeshPki, pkiConfigCommands } from "../../../tools/engine/meshPki";
import { CliRun, engineEnv, ensureLanguageHost, projectDir, pulumi } from "../../../tools/engine/pulumi";
import { MeshState } from "../../../tools/clusters/state";

/** One step of `pulumi preview --json`. */
export interface PreviewStep {
    readonly op: string;
    readonly urn: string;
}

/** An engine event of `--event-log` (only what the tests read). */
export interface EngineEvent {
    readonly sequence: number;
    readonly resOutputsEvent?: { metadata: { op: string; urn: string } };
}

export class EngineStack {
    readonly runs: CliRun[] = [];
    readonly env: NodeJS.ProcessEnv;
    readonly cwd: string;
    readonly pkiDir: string;
    private laterPki?: MeshPki;

    private constructor(
        readonly mesh: MeshState,
        readonly stack: string,
        readonly workDir: string,
        stackFile: string,
    ) {
        ensureLanguageHost();
        // PULUMI_DEBUG_COMMANDS: the CLI offers `--event-log` (the engine's events, in order) only with it.
        this.env = {
            ...engineEnv(workDir, path.join(mesh.dir, "kubeconfig")),
            PULUMI_DEBUG_COMMANDS: "true",
        };
        this.cwd = projectDir(workDir, stack, stackFile);
        this.pkiDir = path.join(workDir, "pki");
        fs.mkdirSync(path.join(workDir, "state"), { recursive: true });
    }

    /** A new stack from `stackFile`, with its PKI and charts set. */
    static async create(
        mesh: MeshState,
        stack: string,
        stackFile: string,
        opts: {
            version: string;
            meshId: string;
            primaries: readonly string[];
            /** Primaries added to the stack later: their intermediates are made now, under the same root. */
            later?: readonly string[];
        },
    ): Promise<EngineStack> {
        const s = new EngineStack(mesh, stack, path.join(mesh.dir, `engine-${stack}`), stackFile);
        await s.ok(["stack", "init", "--secrets-provider", "passphrase"]);
        const pki = makeMeshPki(s.pkiDir, opts.meshId, [...opts.primaries, ...(opts.later ?? [])]);
        const later = new Set(opts.later ?? []);
        const now = {
            ...pki,
            intermediates: Object.fromEntries(
                Object.entries(pki.intermediates).filter(([p]) => !later.has(p)),
            ),
        };
        s.laterPki = {
            rootCert: pki.rootCert,
            intermediates: Object.fromEntries(
                Object.entries(pki.intermediates).filter(([p]) => later.has(p)),
            ),
        };
        for (const c of pkiConfigCommands(now)) await s.ok(c.args, c.stdin);
        const charts = releasedCharts(opts.version, path.join(s.workDir, "charts"));
        await s.ok(["config", "set", "--path", "istio-multicluster:mesh.istio.charts", charts]);
        return s;
    }

    /** Sets the intermediates of the primaries `create` was told come later. */
    async setLaterIntermediates(): Promise<void> {
        const commands = this.laterPki ? pkiConfigCommands(this.laterPki).slice(1) : [];
        for (const c of commands) await this.ok(c.args, c.stdin);
    }

    /** `pulumi <args> --stack <stack>`. */
    async run(args: readonly string[], stdin?: string): Promise<CliRun> {
        const r = await pulumi([...args, "--stack", this.stack], { cwd: this.cwd, env: this.env, stdin });
        this.runs.push(r);
        return r;
    }

    /** As `run`, failing with the command's output unless it exits 0. */
    async ok(args: readonly string[], stdin?: string): Promise<CliRun> {
        const r = await this.run(args, stdin);
        if (r.code !== 0) {
            throw new Error(
                `pulumi ${args.join(" ")} exited ${r.code}:\n${r.stdout.slice(-6000)}\n${r.stderr.slice(-3000)}`,
            );
        }
        return r;
    }

    /** `pulumi preview --json`: its steps. */
    async previewSteps(extra: readonly string[] = []): Promise<PreviewStep[]> {
        const r = await this.ok(["preview", "--json", ...extra]);
        return ((JSON.parse(r.stdout) as { steps?: PreviewStep[] }).steps ?? []).map((s) => ({
            op: s.op,
            urn: s.urn,
        }));
    }

    /** `pulumi up --yes` with an event log; returns the run and the events. */
    async up(extra: readonly string[] = []): Promise<{ run: CliRun; events: EngineEvent[] }> {
        const log = path.join(this.workDir, `events-${this.runs.length}.jsonl`);
        const run = await this.ok(["up", "--yes", "--skip-preview", "--event-log", log, ...extra]);
        const events = fs
            .readFileSync(log, "utf8")
            .split("\n")
            .filter((l) => l.trim() !== "")
            .map((l) => JSON.parse(l) as EngineEvent);
        return { run, events };
    }

    /** The stack's state as `pulumi stack export` gives it (secrets stay encrypted). */
    async exportState(): Promise<string> {
        return (await this.ok(["stack", "export"])).stdout;
    }

    /** Everything every command printed so far. */
    transcript(): string {
        return this.runs.map((r) => `$ pulumi ${r.args.join(" ")}\n${r.stdout}${r.stderr}`).join("\n");
    }
}

/** The resource counts of an update's summary (`+ 57 created`, `- 3 deleted`, ...). */
export function summaryCounts(output: string): Record<string, number> {
    const counts: Record<string, number> = {};
    const summary = output.slice(output.lastIndexOf("Resources:"));
    for (const m of summary.matchAll(/^\s+[+~\-±]*\s*(\d+) (created|updated|deleted|replaced|unchanged)/gm)) {
        counts[m[2]!] = Number(m[1]);
    }
    return counts;
}

/** A resource's name: the last part of its URN. */
export function nameOf(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}
