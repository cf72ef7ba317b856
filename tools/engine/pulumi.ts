/**
 * The Pulumi CLI built in .e2e/bin, run the way a user runs it, but sealed off from the machine's own Pulumi:
 * its own PULUMI_HOME, a local file backend, a passphrase secrets provider, no update check and no plugin
 * downloads. Plugins come from PATH: the Kubernetes provider and the language host from .e2e/bin, the SDK's
 * own `pulumi-resource-pulumi-nodejs` from node_modules.
 *
 * Each run works in a project folder of its own (`projectDir`): the repository's files linked in, the stack
 * file copied, so `pulumi config set` and the passphrase's salt never touch the committed stack files.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { binDir } from "../clusters/build";
import { repoRoot } from "../planner";

/** What one CLI command did. */
export interface CliRun {
    readonly args: readonly string[];
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
    /** Wall time in milliseconds. */
    readonly ms: number;
}

/** The language host launcher the CLI finds on PATH (tools/engine/languageHost.ts says why it is ours). */
export function ensureLanguageHost(): string {
    const launcher = path.join(binDir, "pulumi-language-nodejs");
    const tsx = require.resolve("tsx", { paths: [repoRoot] });
    const script = [
        "#!/bin/sh",
        "# Written by tools/engine/pulumi.ts: the Node.js language host stand-in (tools/engine/languageHost.ts).",
        `exec node --import "${tsx}" "${path.join(repoRoot, "tools", "engine", "languageHost.ts")}" "$@"`,
        "",
    ].join("\n");
    fs.mkdirSync(binDir, { recursive: true });
    if (!fs.existsSync(launcher) || fs.readFileSync(launcher, "utf8") !== script) {
        fs.writeFileSync(launcher, script, { mode: 0o755 });
    }
    return launcher;
}

/** The passphrase of the engine tier's and the demo's throwaway stacks (their state lives under .e2e). */
export const localPassphrase = "istio-multicluster-local";

/** The environment of every CLI command: see the file's comment. */
export function engineEnv(workDir: string, kubeconfig: string): NodeJS.ProcessEnv {
    const sdk = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [repoRoot] }));
    return {
        ...process.env,
        PATH: [binDir, sdk, process.env.PATH ?? ""].join(path.delimiter),
        PULUMI_HOME: path.join(workDir, "pulumi-home"),
        PULUMI_BACKEND_URL: `file://${path.join(workDir, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? localPassphrase,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_SKIP_CONFIRMATIONS: "true",
        KUBECONFIG: kubeconfig,
        NO_COLOR: "1",
    };
}

/**
 * A project folder for one stack: every top-level entry of the repository linked (so the program, its
 * node_modules and the policy pack are the repository's own), but for the stack files; `stackFile` copied in
 * as `Pulumi.<stack>.yaml`.
 */
export function projectDir(dir: string, stack: string, stackFile: string): string {
    const project = path.join(dir, "project");
    fs.mkdirSync(project, { recursive: true });
    for (const entry of fs.readdirSync(repoRoot)) {
        if (/^Pulumi\..+\.yaml$/.test(entry) || entry === ".e2e" || entry === ".git") continue;
        const link = path.join(project, entry);
        if (!fs.existsSync(link)) fs.symlinkSync(path.join(repoRoot, entry), link);
    }
    fs.copyFileSync(stackFile, path.join(project, `Pulumi.${stack}.yaml`));
    return project;
}

/** Runs `pulumi <args>` in `cwd`; `stdin` is written to its standard input (secrets are read from there). */
export function pulumi(
    args: readonly string[],
    opts: {
        cwd: string;
        env: NodeJS.ProcessEnv;
        stdin?: string;
        onOutput?: (s: string) => void;
        /** Called with the CLI's pid once it started (to sample its memory). */
        onSpawn?: (pid: number) => void;
    },
): Promise<CliRun> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
        const child = spawn(path.join(binDir, "pulumi"), [...args], {
            cwd: opts.cwd,
            env: opts.env,
            stdio: ["pipe", "pipe", "pipe"],
        });
        if (child.pid !== undefined) opts.onSpawn?.(child.pid);
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => {
            stdout += d.toString();
            opts.onOutput?.(d.toString());
        });
        child.stderr.on("data", (d: Buffer) => {
            stderr += d.toString();
            opts.onOutput?.(d.toString());
        });
        child.on("error", reject);
        child.on("close", (code) =>
            resolve({ args, code: code ?? -1, stdout, stderr, ms: Date.now() - started }),
        );
        child.stdin.end(opts.stdin ?? "");
    });
}
