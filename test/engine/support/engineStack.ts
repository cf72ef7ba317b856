/**
 * One stack of the project under the real Pulumi CLI (tools/engine/pulumi.ts) against local clusters: its
 * own project folder, state and PULUMI_HOME under the clusters' folder, the mesh PKI made with openssl and set
 * as secrets from standard input, the Istio charts of ../shared as released. Every command's output is kept,
 * so the tests can read what a user would have seen (and search it for secrets).
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { CliRun } from "../../../tools/engine/pulumi";
import { LocalStack } from "../../../tools/engine/stack";
import { MeshState } from "../../../tools/clusters/state";
import { repoRoot } from "../../../tools/planner";

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

export class EngineStack extends LocalStack {
    /** A stack of `stackFile` on `mesh`'s clusters, its PKI and the ../shared charts set (required here). */
    static async on(
        mesh: MeshState,
        stack: string,
        stackFile: string,
        opts: { version: string; meshId: string; primaries: readonly string[]; later?: readonly string[] },
    ): Promise<EngineStack> {
        return EngineStack.create({
            ...opts,
            stack,
            stackFile,
            workDir: path.join(mesh.dir, `engine-${stack}`),
            kubeconfig: path.join(mesh.dir, "kubeconfig"),
            requireCharts: true,
            // The CLI offers `--event-log` (the engine's events, in order) only with PULUMI_DEBUG_COMMANDS.
            env: { PULUMI_DEBUG_COMMANDS: "true" },
        });
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

/** Runs `npm run verify -- --stack demo` the way a user would after `pulumi up`, in the stack's project. */
export function verify(stack: EngineStack): { code: number; output: string } {
    try {
        const output = execFileSync(
            process.execPath,
            ["--import", "tsx", path.join(repoRoot, "tools", "verify.ts"), "--stack", stack.stack],
            { cwd: stack.cwd, env: stack.env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
        );
        return { code: 0, output };
    } catch (e) {
        const err = e as { status?: number; stdout?: string; stderr?: string };
        return { code: err.status ?? -1, output: `${err.stdout ?? ""}${err.stderr ?? ""}` };
    }
}

/** Each primary's istiod (read through verify's `istiod-view`) lists the two other clusters synced. */
export function assertEveryClusterSynced(output: string): void {
    assert.match(output, /✔ istiod-view\s+(primary2 synced, remote1 synced|remote1 synced, primary2 synced)/);
    assert.match(output, /✔ istiod-view\s+(primary1 synced, remote1 synced|remote1 synced, primary1 synced)/);
}
