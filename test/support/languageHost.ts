/**
 * Runs the program the way the Pulumi CLI's Node.js language host does: `node @pulumi/pulumi/cmd/run <root>`
 * with the config in `PULUMI_CONFIG` and the addresses of a resource monitor and an engine on the command
 * line. Here both are served in-process over gRPC with Pulumi's own service definitions, recording what the
 * program registers and every message it logs (what the CLI would print).
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { repoRoot, StackConfig } from "../../tools/planner";

// @grpc/grpc-js, google-protobuf and the generated stubs come with @pulumi/pulumi (typed by its .d.ts files).
import * as grpc from "@grpc/grpc-js";
import * as emptyPb from "google-protobuf/google/protobuf/empty_pb";
import * as structPb from "google-protobuf/google/protobuf/struct_pb";
import * as engineGrpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as enginePb from "@pulumi/pulumi/proto/engine_pb";
import * as resourceGrpc from "@pulumi/pulumi/proto/resource_grpc_pb";
import * as resourcePb from "@pulumi/pulumi/proto/resource_pb";

const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));

/** Engine log severities (pulumirpc.LogSeverity). */
const severities = ["debug", "info", "warning", "error"] as const;

/** What one run of the program under the language host's entry point did. */
export interface HostRun {
    /** The process's exit code. */
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
    /** Every message logged to the engine, in order. */
    readonly logs: readonly { severity: (typeof severities)[number]; message: string }[];
    /** `type::name` of every resource registered, in order (the stack itself included). */
    readonly registered: readonly string[];
}

/** Runs index.ts through `@pulumi/pulumi/cmd/run` against an in-process monitor and engine. */
export async function runUnderLanguageHost(
    config: StackConfig,
    opts: { dryRun?: boolean } = {},
): Promise<HostRun> {
    const logs: { severity: (typeof severities)[number]; message: string }[] = [];
    const registered: string[] = [];
    const server = new grpc.Server();
    const unary =
        <Req, Resp>(f: (req: Req) => Resp): grpc.handleUnaryCall<Req, Resp> =>
        (call, cb) =>
            cb(null, f(call.request));
    const unimplemented: grpc.handleUnaryCall<unknown, never> = (_call, cb) =>
        cb({ code: grpc.status.UNIMPLEMENTED, details: "not served by this test" }, null);
    const monitor: resourceGrpc.IResourceMonitorServer = {
        getDeploymentInfo: unimplemented,
        supportsFeature: unary(() => new resourcePb.SupportsFeatureResponse().setHassupport(false)),
        registerResource: unary((req: resourcePb.RegisterResourceRequest) => {
            registered.push(`${req.getType()}::${req.getName()}`);
            const urn = `urn:pulumi:${config.stack}::istio-multicluster::${req.getType()}::${req.getName()}`;
            return new resourcePb.RegisterResourceResponse()
                .setUrn(urn)
                .setObject(structPb.Struct.fromJavaScript({}));
        }),
        registerResourceOutputs: unary(() => new emptyPb.Empty()),
        invoke: unimplemented,
        call: unimplemented,
        readResource: unimplemented,
        registerStackTransform: unimplemented,
        registerStackInvokeTransform: unimplemented,
        registerResourceHook: unimplemented,
        registerErrorHook: unimplemented,
        registerPackage: unimplemented,
        existsResource: unimplemented,
        signalAndWaitForShutdown: unary(() => new emptyPb.Empty()),
    };
    server.addService(resourceGrpc.ResourceMonitorService, monitor);
    let root = "";
    const engine: engineGrpc.IEngineServer = {
        log: unary((req: enginePb.LogRequest) => {
            logs.push({ severity: severities[req.getSeverity()], message: req.getMessage() });
            return new emptyPb.Empty();
        }),
        getRootResource: unary(() => new enginePb.GetRootResourceResponse().setUrn(root)),
        setRootResource: unary((req: enginePb.SetRootResourceRequest) => {
            root = req.getUrn();
            return new enginePb.SetRootResourceResponse();
        }),
        startDebugging: unimplemented,
        requirePulumiVersion: unary(() => new enginePb.RequirePulumiVersionResponse()),
    };
    server.addService(engineGrpc.EngineService, engine);
    const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
            err ? reject(err) : resolve(p),
        ),
    );
    try {
        const address = `127.0.0.1:${port}`;
        const args = [
            path.join(pulumiDir, "cmd", "run"),
            `--monitor=${address}`,
            `--engine=${address}`,
            "--project=istio-multicluster",
            `--stack=${config.stack}`,
            `--root-directory=${repoRoot}`,
            `--pwd=${repoRoot}`,
            ...(opts.dryRun === false ? [] : ["--dry-run"]),
            // Pulumi.yaml names no `main`: the host passes the project directory and package.json's main is used.
            ".",
        ];
        const child = spawn(process.execPath, args, {
            cwd: repoRoot,
            env: {
                PATH: process.env.PATH ?? "",
                HOME: process.env.HOME ?? "",
                PULUMI_CONFIG: JSON.stringify(config.values),
                PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(config.secretKeys),
                // What the host sets for Pulumi.yaml's `runtime.options.typescript: true`.
                PULUMI_NODEJS_TYPESCRIPT: "true",
                // Type checking is `npm test`'s job; the host's runtime path is the same either way.
                PULUMI_NODEJS_TRANSPILE_ONLY: "true",
            },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
        return { code, stdout, stderr, logs, registered };
    } finally {
        server.forceShutdown();
    }
}
