/**
 * The stack configuration `verify` checks against: the same validated topology `pulumi up` applied, read
 * either decrypted through the Pulumi CLI (`--stack`) or from a stack file (`--config`, where `secure:`
 * values stay opaque).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { projectName, Topology } from "../../stacks/topology";
import { rawConfigFrom, validateTopology } from "../../stacks/validate";
import { loadConfigFile, redactedSecret, StackConfig } from "../planner";

/** A config `verify` cannot work from; the message says why and what to do. */
export class VerifyRefused extends Error {
    constructor(
        message: string,
        public readonly problems: readonly string[] = [],
    ) {
        super(message);
        this.name = "VerifyRefused";
    }
}

/** What verify checks against. */
export interface VerifyConfig {
    readonly stack: string;
    readonly topology: Topology;
    /** Per cluster name, its kubeconfig text when given as `kubeconfig` (undefined when not decryptable). */
    readonly kubeconfigs: Readonly<Record<string, string | undefined>>;
    /** The mesh namespaces every cluster must have: `istio-multicluster:namespaces`, and the smoke test's. */
    readonly namespaces: readonly string[];
    /** Notes for the reader (where the config came from). */
    readonly notes: readonly string[];
}

/** Runs the Pulumi CLI; injectable for tests. */
export type PulumiRunner = (args: string[]) => {
    status: number | null;
    stdout: string;
    stderr: string;
    missing: boolean;
};

/**
 * The real Pulumi CLI, from PATH, in the directory verify runs in: the stack's project (where `pulumi up`
 * ran, and whose Pulumi.<stack>.yaml holds the config applied), which `npm run verify` makes the repository's.
 */
export const runPulumi: PulumiRunner = (args) => {
    const r = spawnSync("pulumi", args, { cwd: process.cwd(), encoding: "utf8", timeout: 60_000 });
    const missing = (r.error as { code?: string } | undefined)?.code === "ENOENT";
    return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", missing };
};

/**
 * `--stack`: `pulumi config --show-secrets --json --stack <name>` (values decrypted, as the CLI exposes them).
 * Without the CLI, the stack file `Pulumi.<name>.yaml` is read instead and said so.
 */
export function loadStackConfig(stack: string, run: PulumiRunner = runPulumi): VerifyConfig {
    const r = run(["config", "--show-secrets", "--json", "--stack", stack]);
    if (r.missing) {
        const file = path.resolve(`Pulumi.${stack}.yaml`);
        if (!fs.existsSync(file)) {
            throw new VerifyRefused(
                `unknown stack "${stack}": the Pulumi CLI is not on PATH and there is no Pulumi.${stack}.yaml; ` +
                    `install the CLI or pass --config <file>`,
            );
        }
        return fromStackConfig(loadConfigFile(file, stack), [
            `note: the Pulumi CLI is not on PATH; read Pulumi.${stack}.yaml, whose secure: values cannot be decrypted`,
        ]);
    }
    if (r.status !== 0) {
        const line = r.stderr.split("\n").find((l) => l.trim() !== "") ?? `exit ${r.status}`;
        throw new VerifyRefused(`stack "${stack}": pulumi config failed: ${line.replace(/^error:\s*/, "")}`);
    }
    let doc: Record<string, { value?: unknown; objectValue?: unknown; secret?: boolean }>;
    try {
        doc = JSON.parse(r.stdout) as typeof doc;
    } catch {
        throw new VerifyRefused(`stack "${stack}": pulumi config --json printed no JSON`);
    }
    const values: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [k, v] of Object.entries(doc)) {
        const value = v.objectValue !== undefined ? JSON.stringify(v.objectValue) : v.value;
        if (value === undefined) continue;
        values[k] = typeof value === "string" ? value : JSON.stringify(value);
        if (v.secret) secretKeys.push(k);
    }
    return fromStackConfig({ stack, values, secretKeys }, []);
}

/** `--config <file>`: a stack file; `secure:` values cannot be decrypted without the CLI. */
export function loadFileConfig(file: string): VerifyConfig {
    if (!fs.existsSync(file)) throw new VerifyRefused(`no such config file: ${file}`);
    try {
        return fromStackConfig(loadConfigFile(file), []);
    } catch (e) {
        if (e instanceof VerifyRefused) throw e;
        throw new VerifyRefused((e as Error).message);
    }
}

/** Validates the config exactly as the program does, and gathers what verify needs beside the topology. */
export function fromStackConfig(config: StackConfig, notes: string[]): VerifyConfig {
    const key = (k: string) => `${projectName}:${k}`;
    const value = (k: string) => (Object.hasOwn(config.values, key(k)) ? config.values[key(k)] : undefined);
    const raw = rawConfigFrom(value, (k) => config.secretKeys.includes(key(k)), Object.keys(config.values));
    const rawClusters = raw.clusters;
    const result = validateTopology(raw);
    if (!result.ok) {
        throw new VerifyRefused(
            `stack "${config.stack}": the configuration describes no possible mesh (${result.errors.length} problem(s))`,
            result.errors,
        );
    }
    const topology = result.topology;
    const kubeconfigs: Record<string, string | undefined> = {};
    for (const c of topology.clusters) {
        if (c.access.kind !== "kubeconfig") continue;
        const raw = (rawClusters as Record<string, unknown>[])[c.index]?.kubeconfig;
        kubeconfigs[c.name] = typeof raw === "string" && raw !== redactedSecret ? raw : undefined;
    }
    // The mesh's application namespaces (`istio-multicluster:namespaces`), and the smoke test's.
    const namespaces = topology.namespaces.map((n) => n.name);
    if (topology.smokeTest && !namespaces.includes(topology.smokeTest.namespace)) {
        namespaces.push(topology.smokeTest.namespace);
    }
    return { stack: config.stack, topology, kubeconfigs, namespaces, notes };
}
