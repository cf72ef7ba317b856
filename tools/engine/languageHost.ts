/**
 * A Node.js language host for the Pulumi CLI built in .e2e/bin, for the engine tier and the demo only.
 *
 * Why it exists: the CLI runs a Node.js program through the `pulumi-language-nodejs` plugin, a Go program in
 * its own module (`github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3`) that the module proxy
 * does not serve, so it cannot be built here. This host does the two things the CLI asks of it for this
 * project, the way upstream's does them, and nothing else (every other call answers UNIMPLEMENTED, which the
 * CLI tolerates):
 *
 * - `Run`: starts `node @pulumi/pulumi/cmd/run` (the SDK's own entry point, the one upstream's host starts)
 *   with the monitor and engine addresses, project, stack, working directory, dry-run flag and parallelism on
 *   its command line, the stack's config in `PULUMI_CONFIG` and `PULUMI_CONFIG_SECRET_KEYS`, and
 *   `PULUMI_NODEJS_TYPESCRIPT` from the project's `typescript` option (default on, as upstream). So the program
 *   is compiled by the SDK's own ts-node path, type checks included, exactly as under the real host. Exit code
 *   32 (the program already reported its error) becomes `bail`, any other failure one line naming the code.
 * - `RunPlugin` for an analyzer (`--policy-pack`): starts `@pulumi/pulumi/cmd/run-policy-pack` in the pack's
 *   directory with the engine address and the pack's directory, and streams its output back. Upstream's host
 *   also proxies the pack's first calls to hand it the stack's config; this pack reads only its policy
 *   config, so that is not done.
 *
 * What it does not do: `pulumi install`, `pulumi about`'s dependency list, required-plugin discovery (the
 * Kubernetes provider is found on PATH), code generation, debugging. Users run upstream's host; the README's
 * engine-tier section names this stand-in.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as languageGrpc from "@pulumi/pulumi/proto/language_grpc_pb";
import * as languagePb from "@pulumi/pulumi/proto/language_pb";
import * as pluginPb from "@pulumi/pulumi/proto/plugin_pb";

/** The exit code with which `cmd/run` says it has already reported the program's error. */
const alreadyReported = 32;

/** The project's runtime options as upstream's host reads them: `typescript` defaults to on. */
function typescriptOf(info: languagePb.ProgramInfo | undefined): boolean {
    const options = (info?.getOptions()?.toJavaScript() ?? {}) as Record<string, unknown>;
    return options.typescript !== false;
}

/** A module of the SDK, resolved from the program's directory as Node would resolve it there. */
function sdkModule(name: string, from: string): string {
    return path.dirname(require.resolve(`@pulumi/pulumi/cmd/${name}/index.js`, { paths: [from] }));
}

/** The `cmd/run` command line for a RunRequest (flags before the entry point, program args after it). */
export function runArguments(req: languagePb.RunRequest, engine: string, runPath: string): string[] {
    const args = [runPath];
    const flag = (name: string, value: string | number | undefined) => {
        if (value !== undefined && value !== "" && value !== 0) args.push(`--${name}=${value}`);
    };
    flag("monitor", req.getMonitorAddress());
    flag("engine", engine);
    flag("organization", req.getOrganization());
    flag("project", req.getProject());
    flag("stack", req.getStack());
    flag("pwd", req.getPwd());
    flag("root-directory", req.getInfo()?.getRootDirectory());
    if (req.getDryrun()) args.push("--dry-run");
    if (req.getParallel() > 1) flag("parallel", req.getParallel());
    args.push(req.getProgram() || ".", ...req.getArgsList());
    return args;
}

/** The environment of a program run: the host's own, the stack's config, the TypeScript switch. */
export function runEnvironment(req: languagePb.RunRequest, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    const config: Record<string, string> = {};
    req.getConfigMap().forEach((value, key) => (config[key] = value));
    return {
        ...base,
        PULUMI_CONFIG: JSON.stringify(config),
        PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(req.getConfigsecretkeysList()),
        ...(typescriptOf(req.getInfo()) ? { PULUMI_NODEJS_TYPESCRIPT: "true" } : {}),
    };
}

function exited(child: ChildProcess): Promise<number> {
    return new Promise((resolve) => {
        child.on("error", () => resolve(-1));
        child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : -1)));
    });
}

const host: Partial<languageGrpc.ILanguageRuntimeServer> = {
    getPluginInfo: (_call, callback) => callback(null, new pluginPb.PluginInfo()),

    getRequiredPlugins: (_call, callback) => callback(null, new languagePb.GetRequiredPluginsResponse()),

    getRequiredPackages: (_call, callback) => callback(null, new languagePb.GetRequiredPackagesResponse()),

    run: (call, callback) => {
        const req = call.request;
        const programDir = req.getInfo()?.getProgramDirectory() || req.getPwd();
        let runPath: string;
        try {
            runPath = sdkModule("run", programDir);
        } catch {
            callback(
                null,
                new languagePb.RunResponse().setError(
                    `@pulumi/pulumi is not installed in ${programDir}; run npm ci`,
                ),
            );
            return;
        }
        const child = spawn(process.execPath, runArguments(req, engineAddress, runPath), {
            cwd: req.getPwd() || programDir,
            env: runEnvironment(req, process.env),
            stdio: ["ignore", "pipe", "pipe"],
        });
        child.stdout.pipe(process.stdout);
        child.stderr.pipe(process.stderr);
        void exited(child).then((code) => {
            const res = new languagePb.RunResponse();
            if (code === alreadyReported) res.setBail(true);
            else if (code !== 0) res.setError(`Program exited with non-zero exit code: ${code}`);
            callback(null, res);
        });
    },

    runPlugin: (call) => {
        const req = call.request;
        const send = (set: (r: languagePb.RunPluginResponse) => void) => {
            const r = new languagePb.RunPluginResponse();
            set(r);
            call.write(r);
        };
        const programDir = req.getInfo()?.getProgramDirectory() ?? req.getPwd();
        const analyzer = req.getKind() === "analyzer";
        let runPath: string;
        try {
            runPath = sdkModule(analyzer ? "run-policy-pack" : "run-plugin", programDir);
        } catch {
            send((r) => r.setStderr(Buffer.from(`@pulumi/pulumi is not installed for ${programDir}\n`)));
            send((r) => r.setExitcode(1));
            call.end();
            return;
        }
        const env: NodeJS.ProcessEnv = {};
        for (const kv of req.getEnvList()) {
            const i = kv.indexOf("=");
            if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
        }
        if (typescriptOf(req.getInfo())) env.PULUMI_NODEJS_TYPESCRIPT = "true";
        // Analyzers take the pack's directory last; other plugins first (as upstream's host orders them).
        const args = analyzer
            ? [runPath, ...req.getArgsList(), programDir]
            : [runPath, programDir, ...req.getArgsList()];
        const child = spawn(process.execPath, args, {
            cwd: analyzer ? programDir : req.getPwd() || programDir,
            env,
            stdio: ["ignore", "pipe", "pipe"],
        });
        child.stdout.on("data", (d: Buffer) => send((r) => r.setStdout(d)));
        child.stderr.on("data", (d: Buffer) => send((r) => r.setStderr(d)));
        call.on("cancelled", () => child.kill());
        void exited(child).then((code) => {
            send((r) => r.setExitcode(code));
            call.end();
        });
    },
};

/** The engine's address: the CLI passes it as the host's one positional argument (flags come first). */
const engineAddress =
    process.argv
        .slice(2)
        .filter((a) => !a.startsWith("-"))
        .pop() ?? "";

if (require.main === module) {
    const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
    server.addService(languageGrpc.LanguageRuntimeService, host as languageGrpc.ILanguageRuntimeServer);
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
        if (err) {
            process.stderr.write(`language host: ${err.message}\n`);
            process.exit(1);
        }
        // The plugin protocol: the port, alone on the first line of stdout.
        process.stdout.write(`${port}\n`);
    });
    // The CLI kills its plugins when it is done; nothing else ends this process.
}
