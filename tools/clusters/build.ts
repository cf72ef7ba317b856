/**
 * The e2e binaries, built from Go modules into `.e2e/bin/`: one wrapper module per upstream project under
 * `e2e/tools/<name>/` (their dependency graphs clash), each holding `go.mod` and `go.sum`, whose `tool` lines
 * name the main packages (the Kubernetes provider's also holds our own small `main.go`). A module is rebuilt
 * only when one of its binaries is missing or its stamp (a hash of its go.mod, go.sum and .go files, the build
 * recipe and flags and the Go version) changed: the pins are the stamp.
 */
import { execFileSync, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot } from "../planner";

/** Where the binaries go (git-ignored). */
export const binDir = path.join(repoRoot, ".e2e", "bin");
/** The wrapper modules. */
export const modulesDir = path.join(repoRoot, "e2e", "tools");

/** A refusal with one line to show: no stack trace. */
export class ClustersRefused extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ClustersRefused";
    }
}

/** A cluster that did not come up: one line naming the process, why, and its log. */
export class ClustersFailed extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ClustersFailed";
    }
}

/** One wrapper module and what it builds. */
export interface GoModule {
    /** Its folder under e2e/tools. */
    readonly dir: string;
    /** Main package → binary name in .e2e/bin. */
    readonly binaries: Readonly<Record<string, string>>;
    /** `-ldflags` beyond `-s -w`, from the module's own pins. */
    readonly ldflags?: (version: (module: string) => string, moduleDir: (module: string) => string) => string;
    /** Files made beside the binaries from the module's sources, once built. */
    readonly extras?: (moduleDir: (module: string) => string) => Record<string, string>;
    /** Extra environment for `go build`. */
    readonly env?: Readonly<Record<string, string>>;
    /** Build tags (`-tags`), as the project's own release build sets them. */
    readonly tags?: string;
    /**
     * Files written into the wrapper module's folder before it builds (git-ignored): what a main package of
     * ours embeds from the upstream module.
     */
    readonly prepare?: (
        version: (module: string) => string,
        moduleDir: (module: string) => string,
    ) => Record<string, string | Buffer>;
    /** `clusters` (what `npm run clusters -- up` needs) or `engine` (the Pulumi CLI and its provider). */
    readonly group: "clusters" | "engine";
}

const kubeVersionPkg = "k8s.io/component-base/version";

const kubernetesProvider = "github.com/pulumi/pulumi-kubernetes/provider/v4";
/**
 * The provider's release: the module proxy serves its module only as the pseudo-version of the v4.25.0 tag's
 * commit (e2e/tools/kubernetes/go.mod), so the release number is stated here, as upstream's build sets it.
 */
export const kubernetesProviderVersion = "4.25.0";

/**
 * kwok's own stages, as kwokctl configures them: nodes Ready with leases, pods Ready, deleted pods removed.
 * Not `pod-complete`, which marks a Job's pods Succeeded: nothing runs here, so no Job may look as if it had
 * (the smoke test's Job stays running, honestly unfinished).
 */
const kwokStages = [
    "kustomize/stage/node/fast/node-initialize.yaml",
    "kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "kustomize/stage/pod/fast/pod-ready.yaml",
    "kustomize/stage/pod/fast/pod-delete.yaml",
];

export const goModules: readonly GoModule[] = [
    {
        dir: "kube",
        group: "clusters",
        binaries: {
            "k8s.io/kubernetes/cmd/kube-apiserver": "kube-apiserver",
            "k8s.io/kubernetes/cmd/kube-controller-manager": "kube-controller-manager",
            "k8s.io/kubernetes/cmd/kube-scheduler": "kube-scheduler",
        },
        // What `kube-apiserver --version` and /version report, as Kubernetes' own release build sets them.
        ldflags: (version) => {
            const v = version("k8s.io/kubernetes");
            const minor = v.split(".")[1] ?? "0";
            return [
                `-X ${kubeVersionPkg}.gitVersion=${v}`,
                `-X ${kubeVersionPkg}.gitMajor=1`,
                `-X ${kubeVersionPkg}.gitMinor=${minor}`,
                `-X ${kubeVersionPkg}.gitTreeState=clean`,
            ].join(" ");
        },
    },
    {
        dir: "istio",
        group: "clusters",
        binaries: { "istio.io/istio/pilot/cmd/pilot-discovery": "pilot-discovery" },
        env: { CGO_ENABLED: "0" },
        // What `pilot-discovery version` and istiod's logs report: the VERSION file of the pinned commit
        // (1.31 for a main-branch pseudo-version) and the commit itself.
        ldflags: (version, moduleDir) => {
            const pseudo = version("istio.io/istio");
            const root = moduleDir("istio.io/istio");
            const base = fs.readFileSync(path.join(root, "VERSION"), "utf8").trim();
            const commit = pseudo.split("-").pop() ?? "unknown";
            const pkg = "istio.io/istio/pkg/version";
            return [
                `-X ${pkg}.buildVersion=${base}-dev+${commit}`,
                `-X ${pkg}.buildGitRevision=${commit}`,
                `-X ${pkg}.buildStatus=Clean`,
                `-X ${pkg}.buildTag=${pseudo}`,
            ].join(" ");
        },
    },
    // The Pulumi CLI, flags as its release build (goreleaser) sets them.
    {
        dir: "pulumi",
        group: "engine",
        binaries: { "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi": "pulumi" },
        env: { CGO_ENABLED: "0" },
        tags: "osusergo,grpcnotrace",
        ldflags: (version) =>
            `-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${version("github.com/pulumi/pulumi/pkg/v3")}`,
    },
    // The Kubernetes provider, from our own main (e2e/tools/kubernetes/main.go): upstream's embeds two files
    // its build generates, written here from the module's schema.json (stamped with the provider's version,
    // as upstream's generate step does) and terraform-mapping.json.
    {
        dir: "kubernetes",
        group: "engine",
        binaries: { ".": "pulumi-resource-kubernetes" },
        env: { CGO_ENABLED: "0" },
        ldflags: () => `-X ${kubernetesProvider}/pkg/version.Version=${kubernetesProviderVersion}`,
        prepare: (_version, moduleDir) => {
            const cmd = path.join(moduleDir(kubernetesProvider), "cmd", "pulumi-resource-kubernetes");
            const schema = JSON.parse(fs.readFileSync(path.join(cmd, "schema.json"), "utf8")) as Record<
                string,
                unknown
            >;
            schema.version = kubernetesProviderVersion;
            const mapping = JSON.parse(
                fs.readFileSync(path.join(cmd, "terraform-mapping.json"), "utf8"),
            ) as unknown;
            return {
                "schema-embed.json": JSON.stringify(schema),
                "terraform-mapping-embed.json": JSON.stringify(mapping),
            };
        },
    },
    {
        dir: "kwok",
        group: "clusters",
        binaries: { "sigs.k8s.io/kwok/cmd/kwok": "kwok" },
        extras: (moduleDir) => {
            const root = moduleDir("sigs.k8s.io/kwok");
            return {
                // kwok's PortForward API: the supervisor says per istiod Pod how its ports are forwarded.
                "kwok-portforward-crd.yaml": fs.readFileSync(
                    path.join(root, "kustomize/crd/bases/kwok.x-k8s.io_portforwards.yaml"),
                    "utf8",
                ),
                "kwok-stages.yaml": kwokStages
                    .map((f) => fs.readFileSync(path.join(root, f), "utf8").trim())
                    .join("\n---\n"),
            };
        },
    },
    // Last: the smallest. The largest (kube, istio, pulumi, kubernetes) start first, two builds at a time.
    { dir: "etcd", group: "clusters", binaries: { "go.etcd.io/etcd/server/v3": "etcd" } },
];

/** The binaries every cluster needs (pilot-discovery is needed only where an istiod Pod appears). */
export const clusterBinaries = [
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
    "pilot-discovery",
];

/** The Go toolchain's version, or a refusal that says what to install. */
export function goVersion(): string {
    try {
        return execFileSync("go", ["env", "GOVERSION"], { encoding: "utf8" }).trim();
    } catch {
        throw new ClustersRefused(
            "no Go toolchain: the local clusters are built from Go modules; install Go 1.26 or later " +
                "(or use kind: scripts/kind/up.sh)",
        );
    }
}

function goIn(dir: string, args: string[]): string {
    return execFileSync("go", args, {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, GOFLAGS: "-mod=readonly" },
    });
}

function stampOf(m: GoModule, dir: string, go: string, ldflags: string): string {
    const h = crypto.createHash("sha256");
    for (const f of [
        "go.mod",
        "go.sum",
        ...fs
            .readdirSync(dir)
            .filter((f) => f.endsWith(".go"))
            .sort(),
    ]) {
        h.update(f);
        h.update(fs.readFileSync(path.join(dir, f)));
    }
    // The recipe's own code is part of the stamp: a change to how a module is built rebuilds it.
    h.update(
        JSON.stringify({
            go,
            ldflags,
            binaries: m.binaries,
            env: m.env ?? {},
            tags: m.tags ?? "",
            recipe: [String(m.ldflags), String(m.extras), String(m.prepare)],
        }),
    );
    return h.digest("hex").slice(0, 16);
}

/** Whether a module's binaries are there and built from its current pins. */
export function isCurrent(m: GoModule, go = goVersion()): boolean {
    const dir = path.join(modulesDir, m.dir);
    const stampFile = path.join(binDir, `.${m.dir}.stamp`);
    if (!fs.existsSync(stampFile)) return false;
    if (!Object.values(m.binaries).every((b) => fs.existsSync(path.join(binDir, b)))) return false;
    const recorded = fs.readFileSync(stampFile, "utf8").trim();
    // The ldflags are part of the stamp; reading them needs the module graph, so the recorded stamp is
    // compared against one made with the recorded ldflags (stored beside it).
    const flagsFile = path.join(binDir, `.${m.dir}.ldflags`);
    const ldflags = fs.existsSync(flagsFile) ? fs.readFileSync(flagsFile, "utf8") : "";
    return recorded === stampOf(m, dir, go, ldflags);
}

/** Builds one module's binaries (and extras) into .e2e/bin. */
export async function buildModule(m: GoModule, log: (s: string) => void): Promise<void> {
    const dir = path.join(modulesDir, m.dir);
    const go = goVersion();
    const version = (mod: string) => goIn(dir, ["list", "-m", "-f", "{{.Version}}", mod]).trim();
    const moduleDir = (mod: string) => {
        goIn(dir, ["mod", "download", mod]);
        return goIn(dir, ["list", "-m", "-f", "{{.Dir}}", mod]).trim();
    };
    const ldflags = ["-s -w", m.ldflags?.(version, moduleDir) ?? ""].filter(Boolean).join(" ");
    fs.mkdirSync(binDir, { recursive: true });
    for (const [file, content] of Object.entries(m.prepare?.(version, moduleDir) ?? {})) {
        fs.writeFileSync(path.join(dir, file), content);
    }
    const started = Date.now();
    for (const [pkg, name] of Object.entries(m.binaries)) {
        log(`building ${name} (${m.dir}: ${pkg})`);
        const args = [
            "build",
            "-trimpath",
            "-pgo=off",
            ...(m.tags ? ["-tags", m.tags] : []),
            "-ldflags",
            ldflags,
            "-o",
            path.join(binDir, name),
            pkg,
        ];
        await new Promise<void>((resolve, reject) => {
            const child = spawn("go", args, {
                cwd: dir,
                env: { ...process.env, GOFLAGS: "-mod=readonly", ...m.env },
                stdio: ["ignore", "ignore", "pipe"],
            });
            let stderr = "";
            child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
            child.on("error", reject);
            child.on("close", (code) =>
                code === 0
                    ? resolve()
                    : reject(
                          new ClustersRefused(
                              `go build ${pkg} failed (exit ${code}):\n${stderr.slice(-4000)}`,
                          ),
                      ),
            );
        });
    }
    for (const [file, content] of Object.entries(m.extras?.(moduleDir) ?? {})) {
        fs.writeFileSync(path.join(binDir, file), content);
    }
    fs.writeFileSync(path.join(binDir, `.${m.dir}.ldflags`), ldflags);
    fs.writeFileSync(path.join(binDir, `.${m.dir}.stamp`), stampOf(m, dir, go, ldflags));
    log(`built ${Object.values(m.binaries).join(", ")} in ${Math.round((Date.now() - started) / 1000)}s`);
}

/**
 * Builds every module whose binaries are missing or stale, two at a time (the machine has two cores and Go
 * parallelises inside one build too). Returns the names of the modules built.
 */
export async function ensureBinaries(
    log: (s: string) => void,
    groups: readonly GoModule["group"][] = ["clusters", "engine"],
): Promise<string[]> {
    const go = goVersion();
    const stale = goModules.filter((m) => groups.includes(m.group) && !isCurrent(m, go));
    if (stale.length === 0) return [];
    log(
        `building ${stale.map((m) => m.dir).join(", ")} into ${path.relative(process.cwd(), binDir) || binDir} (${go}); a cold build takes minutes`,
    );
    const queue = [...stale];
    const workers = Array.from({ length: Math.min(2, queue.length) }, async () => {
        for (let m = queue.shift(); m; m = queue.shift()) await buildModule(m, log);
    });
    await Promise.all(workers);
    return stale.map((m) => m.dir);
}

/** The path of a built binary. */
export function bin(name: string): string {
    return path.join(binDir, name);
}
