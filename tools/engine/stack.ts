/**
 * One stack of the project under the CLI built in .e2e/bin, on local clusters: its project folder, state and
 * PULUMI_HOME under `workDir` (tools/engine/pulumi.ts), the mesh PKI made with openssl and set as secrets from
 * standard input, and Istio's charts from ../shared when they are there. The demo, the scale run and the
 * engine tier all start their stacks here; every command's run is kept.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { referenceCharts, releasedCharts } from "./charts";
import { makeMeshPki, MeshPki, pkiConfigCommands } from "./meshPki";
import { CliRun, engineEnv, ensureLanguageHost, projectDir, pulumi } from "./pulumi";

export interface LocalStackOptions {
    readonly stack: string;
    /** The stack file the project folder gets a copy of. */
    readonly stackFile: string;
    readonly workDir: string;
    readonly kubeconfig: string;
    readonly meshId: string;
    /** The primaries whose intermediates are set now. */
    readonly primaries: readonly string[];
    /** Primaries added later (`setLaterIntermediates`): made now, under the same root. */
    readonly later?: readonly string[];
    /** The Istio version whose ../shared charts are used; `requireCharts` fails without them. */
    readonly version: string;
    readonly requireCharts?: boolean;
    /** Extra environment for every command. */
    readonly env?: NodeJS.ProcessEnv;
}

/** How one command is run. */
export interface RunOptions {
    readonly stdin?: string;
    readonly onOutput?: (s: string) => void;
    readonly onSpawn?: (pid: number) => void;
}

export class LocalStack {
    readonly runs: CliRun[] = [];
    readonly env: NodeJS.ProcessEnv;
    readonly cwd: string;
    readonly pkiDir: string;
    readonly stack: string;
    readonly workDir: string;
    /** Where the charts came from: a directory, or undefined for Istio's repository. */
    charts?: string;
    private laterPki?: MeshPki;

    constructor(opts: LocalStackOptions) {
        ensureLanguageHost();
        this.stack = opts.stack;
        this.workDir = opts.workDir;
        this.env = { ...engineEnv(opts.workDir, opts.kubeconfig), ...opts.env };
        this.cwd = projectDir(opts.workDir, opts.stack, opts.stackFile);
        this.pkiDir = path.join(opts.workDir, "pki");
        fs.mkdirSync(path.join(opts.workDir, "state"), { recursive: true });
    }

    /** A new stack: initialised, its PKI and charts set. */
    static async create<T extends LocalStack>(
        this: new (opts: LocalStackOptions) => T,
        opts: LocalStackOptions,
    ): Promise<T> {
        const s = new this(opts);
        await s.ok(["stack", "init", "--secrets-provider", "passphrase"]);
        const later = new Set(opts.later ?? []);
        const pki = makeMeshPki(s.pkiDir, opts.meshId, [...opts.primaries, ...later]);
        const part = (keep: (p: string) => boolean): MeshPki => ({
            rootCert: pki.rootCert,
            intermediates: Object.fromEntries(Object.entries(pki.intermediates).filter(([p]) => keep(p))),
        });
        s.laterPki = part((p) => later.has(p));
        for (const c of pkiConfigCommands(part((p) => !later.has(p)))) await s.ok(c.args, { stdin: c.stdin });
        if (opts.requireCharts || referenceCharts(opts.version)) {
            s.charts = releasedCharts(opts.version, path.join(s.workDir, "charts"));
            await s.ok(["config", "set", "--path", "istio-multicluster:mesh.istio.charts", s.charts]);
        }
        return s;
    }

    /** Sets the intermediates of the primaries `create` was told come later. */
    async setLaterIntermediates(): Promise<void> {
        const commands = this.laterPki ? pkiConfigCommands(this.laterPki).slice(1) : [];
        for (const c of commands) await this.ok(c.args, { stdin: c.stdin });
    }

    /** `pulumi <args> --stack <stack>`. */
    async run(args: readonly string[], opts: RunOptions = {}): Promise<CliRun> {
        const r = await pulumi([...args, "--stack", this.stack], { cwd: this.cwd, env: this.env, ...opts });
        this.runs.push(r);
        return r;
    }

    /** As `run`, failing with the command's output unless it exits 0. */
    async ok(args: readonly string[], opts: RunOptions = {}): Promise<CliRun> {
        const r = await this.run(args, opts);
        if (r.code !== 0) {
            const shown = opts.onOutput ? "" : `:\n${r.stdout.slice(-6000)}\n${r.stderr.slice(-3000)}`;
            throw new Error(`pulumi ${args.join(" ")} exited ${r.code}${shown}`);
        }
        return r;
    }
}
