/**
 * `npm run demo`: the real thing on this machine, in one command. Builds what is missing (the local clusters'
 * binaries and the Pulumi CLI with its Kubernetes provider, from Go modules), starts three local clusters,
 * runs the real `pulumi up` of Pulumi.demo.yaml (two primaries on two networks, a remote), runs `npm run
 * verify` against the live mesh, and says what was created per cluster and where to look.
 * `npm run demo -- down` stops the clusters and removes everything the demo made.
 *
 * Exit codes (tools/exitCodes.ts, as every command): 0 done; 1 it failed; 2 refused before anything started (no Go, not
 * root, a demo already running).
 */
import "./requireNode";
import { exitCode, exitCodesHelp } from "./exitCodes";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ClustersRefused, ensureBinaries, goVersion } from "./clusters/build";
import { down, up } from "./clusters/local";
import { readState } from "./clusters/state";
import { LocalStack } from "./engine/stack";
import { repoRoot } from "./planner";

export const usage = [
    "usage: npm run demo              (build what is missing, start 3 local clusters, pulumi up, verify)",
    "       npm run demo -- down      (stop the clusters, remove the demo's files)",
    "       npm run demo -- --dir D   (keep the demo under D instead of .e2e/demo)",
].join("\n");

const stack = "demo";
const clusterNames = ["primary1", "primary2", "remote1"];
const primaries = ["primary1", "primary2"];

/** One line of progress, with the time since the demo started. */
function progress(started: number): (s: string) => void {
    return (s) => process.stderr.write(`demo [${Math.round((Date.now() - started) / 1000)}s] ${s}\n`);
}

/** Runs `fn`, printing a line every 30 s while it works, so no minute passes in silence. */
async function heartbeat<T>(what: string, log: (s: string) => void, fn: () => Promise<T>): Promise<T> {
    const timer = setInterval(() => log(`${what}: still working`), 30_000);
    try {
        return await fn();
    } finally {
        clearInterval(timer);
    }
}

function parse(argv: readonly string[]): { command: "up" | "down" | "help"; dir: string } {
    let command: "up" | "down" | "help" = "up";
    let dir = path.join(repoRoot, ".e2e", "demo");
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i]!;
        if (a === "--help" || a === "-h") command = "help";
        else if (a === "down" && i === 0) command = "down";
        else if (a === "up" && i === 0) command = "up";
        else if (a === "--dir" && argv[i + 1] && !argv[i + 1]!.startsWith("--"))
            dir = path.resolve(argv[++i]!);
        else throw new ClustersRefused(`unknown argument ${a} (--help)`);
    }
    return { command, dir };
}

async function demoUp(dir: string): Promise<void> {
    const started = Date.now();
    const log = progress(started);
    try {
        goVersion();
    } catch {
        throw new ClustersRefused(
            "the demo builds its clusters and the Pulumi CLI from Go modules: install Go 1.26 or later. " +
                "Without Go, run the mesh on kind clusters instead: scripts/kind/up.sh (README, Quick start)",
        );
    }
    if (readState(path.join(dir, "clusters"))) {
        throw new ClustersRefused(`a demo is already running in ${dir}; stop it first: npm run demo -- down`);
    }
    log("building what is missing into .e2e/bin (a cold build takes 20 to 40 minutes; later runs seconds)");
    await heartbeat("build", log, () => ensureBinaries(log));
    log(`starting local clusters ${clusterNames.join(", ")}`);
    const mesh = await heartbeat("clusters", log, () =>
        up({ names: clusterNames, dir: path.join(dir, "clusters"), lb: "ip", log }),
    );
    const kubeconfig = path.join(mesh.dir, "kubeconfig");
    const workDir = path.join(dir, "engine");
    const version = "1.30.3";
    log("stack demo: a local backend and passphrase under the demo's folder; the mesh's root and one");
    log("intermediate CA per primary made with openssl, the keys set as secrets");
    const local = await LocalStack.create({
        stack,
        stackFile: path.join(repoRoot, `Pulumi.${stack}.yaml`),
        workDir,
        kubeconfig,
        meshId: "demo-mesh",
        primaries,
        version,
    });
    const { cwd, env } = local;
    log(`Istio ${version} charts from ${local.charts ? "../shared/reference" : "Istio's repository"}`);
    log("pulumi up");
    const applied = await heartbeat("pulumi up", log, () =>
        local.ok(["up", "--yes"], { onOutput: (o) => process.stdout.write(o) }),
    );
    log(`pulumi up done in ${Math.round(applied.ms / 1000)}s; npm run verify:`);
    spawnSync(
        process.execPath,
        ["--import", "tsx", path.join(repoRoot, "tools", "verify.ts"), "--stack", stack],
        {
            cwd,
            env,
            stdio: "inherit",
        },
    );
    const exported = JSON.parse((await local.ok(["stack", "export"])).stdout) as {
        deployment: { resources?: { type: string; provider?: string }[] };
    };
    const perCluster = new Map<string, Map<string, number>>();
    for (const r of exported.deployment.resources ?? []) {
        const cluster = /::([^:]+)::[^:]+$/.exec(r.provider ?? "")?.[1];
        if (!cluster || !clusterNames.includes(cluster)) continue;
        const kind = r.type.split(":").pop()!;
        const kinds = perCluster.get(cluster) ?? new Map<string, number>();
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        perCluster.set(cluster, kinds);
    }
    // The CLI's environment, to source for `pulumi preview` and the like against the demo's stack.
    const envFile = path.join(workDir, "env.sh");
    const envNames = [
        "PATH",
        "PULUMI_HOME",
        "PULUMI_BACKEND_URL",
        "PULUMI_CONFIG_PASSPHRASE",
        "PULUMI_SKIP_UPDATE_CHECK",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION",
        "KUBECONFIG",
    ];
    fs.writeFileSync(envFile, envNames.map((k) => `export ${k}='${env[k] ?? ""}'`).join("\n") + "\n");
    process.stdout.write(
        [
            "",
            `The demo mesh is up (${Math.round((Date.now() - started) / 1000)}s in all). Resources per cluster:`,
            ...clusterNames.map((c) => {
                const kinds = [...(perCluster.get(c) ?? new Map<string, number>())].sort();
                const total = kinds.reduce((n, [, k]) => n + k, 0);
                return `  ${c}: ${total} (${kinds.map(([kind, n]) => `${n} ${kind}`).join(", ")})`;
            }),
            "",
            "Where to look:",
            `  kubectl --kubeconfig ${kubeconfig} --context primary1 -n istio-system get pods,svc,secrets`,
            `  the clusters' logs (istiod's among them): ${mesh.dir}`,
            `  the stack: . ${envFile} && cd ${cwd} && pulumi preview --stack demo`,
            "  no containers run here (simulated nodes): no traffic flows; verify checks the control planes and links.",
            "Stop it all: npm run demo -- down",
            "",
        ].join("\n"),
    );
}

async function demoDown(dir: string): Promise<void> {
    const log = progress(Date.now());
    const clusters = path.join(dir, "clusters");
    if (readState(clusters)) await down(clusters, log);
    fs.rmSync(dir, { recursive: true, force: true });
    log(`removed ${dir}`);
}

export async function main(argv: readonly string[]): Promise<number> {
    let args: ReturnType<typeof parse>;
    try {
        args = parse(argv);
    } catch (e) {
        process.stderr.write(`demo: ${(e as Error).message}\n`);
        return exitCode.refused;
    }
    if (args.command === "help") {
        process.stdout.write(`${usage}\n\n${exitCodesHelp}\n`);
        return exitCode.done;
    }
    try {
        if (args.command === "down") await demoDown(args.dir);
        else await demoUp(args.dir);
        return exitCode.done;
    } catch (e) {
        const refused = e instanceof ClustersRefused;
        process.stderr.write(`demo ${refused ? "refused" : "failed"}: ${(e as Error).message}\n`);
        if (!refused)
            process.stderr.write(
                `the clusters keep running for a look; stop them with npm run demo -- down\n`,
            );
        return refused ? exitCode.refused : exitCode.failed;
    }
}

if (require.main === module) {
    void main(process.argv.slice(2)).then((code) => process.exit(code));
}
