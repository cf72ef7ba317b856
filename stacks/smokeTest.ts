/**
 * The smoke test: Istio's own multicluster check (helloworld v1 in one cluster, v2 in another, a client that
 * must see both) as plain Kubernetes objects, and the reader of its `istio-multicluster:smokeTest` setting.
 *
 * Pure: the objects are literals derived from the settings, so the exact objects are cheap to test and the
 * component (components/smokeTest.ts) only creates them in the right cluster in the right order.
 */
import type * as k8s from "@pulumi/kubernetes";
import { excerpt, sharedNamespaceProblem } from "./checks";
import { injectionLabel } from "./names";
import { projectName } from "./core";

/** The config key this module reads. */
export const smokeTestKey = `${projectName}:smokeTest`;

/** What `istio-multicluster:smokeTest` asks for, once validated. */
export interface SmokeTestSettings {
    /** The mesh namespace the sample runs in, created in every cluster; default `smoke-test`. */
    readonly namespace: string;
    /** The cluster that runs `helloworld-v1`; default the first cluster. */
    readonly v1: string;
    /** The cluster that runs `helloworld-v2`; default the first other cluster. */
    readonly v2: string;
    /** How long each cluster's Job may try before it fails the update; default 10 minutes. */
    readonly timeoutMinutes: number;
}

/**
 * Images, pinned. curl by its multi-arch index digest; the helloworld images are pinned by tag only: they are
 * the tags Istio 1.30.3's `samples/helloworld/helloworld.yaml` uses, and no digest for them could be confirmed
 * from a public source while this was written.
 */
export const smokeImages = {
    helloworldV1: "registry.istio.io/release/examples-helloworld-v1:1.0",
    helloworldV2: "registry.istio.io/release/examples-helloworld-v2:1.0",
    curl: "docker.io/curlimages/curl:8.16.0@sha256:463eaf6072688fe96ac64fa623fe73e1dbe25d8ad6c34404a669ad3ce1f104b6",
} as const;

/** The Job's name in every cluster (its logs say what was seen). */
export const smokeJobName = "smoke-test-cross-cluster";

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Reads `istio-multicluster:smokeTest`; undefined settings when absent or `enabled: false`. */
export function readSmokeTest(
    raw: unknown,
    clusters: readonly string[],
): { settings?: SmokeTestSettings; errors: string[] } {
    const errors: string[] = [];
    if (raw === undefined || raw === null) return { errors };
    const path = smokeTestKey;
    if (typeof raw !== "object" || Array.isArray(raw)) {
        return { errors: [`${path}: must be a map such as \`{ enabled: true }\`, got ${excerpt(raw)}`] };
    }
    const o = raw as Record<string, unknown>;
    const allowed = ["enabled", "namespace", "v1", "v2", "timeoutMinutes"];
    for (const k of Object.keys(o)) {
        if (!allowed.includes(k))
            errors.push(`${path}.${k}: unknown key; allowed keys are: ${allowed.join(", ")}`);
    }
    if (o.enabled !== undefined && typeof o.enabled !== "boolean") {
        errors.push(`${path}.enabled: must be true or false, got ${excerpt(o.enabled)}`);
    }
    const namespace = o.namespace ?? "smoke-test";
    if (typeof namespace !== "string" || !dns1123Label.test(namespace) || namespace.length > 63) {
        errors.push(
            `${path}.namespace: ${excerpt(namespace)} is not a DNS-1123 label; name a namespace such as smoke-test`,
        );
    } else if (sharedNamespaceProblem(namespace) !== undefined) {
        errors.push(`${path}.namespace: ${excerpt(namespace)} ${sharedNamespaceProblem(namespace)!}`);
    }
    const known = clusters.join(", ") || "none";
    const pick = (key: "v1" | "v2", fallback: string | undefined): string | undefined => {
        const v = o[key] ?? fallback;
        if (v === undefined) return undefined;
        if (typeof v !== "string" || !clusters.includes(v)) {
            errors.push(`${path}.${key}: ${excerpt(v)} is not a cluster of the mesh; clusters are: ${known}`);
            return undefined;
        }
        return v;
    };
    const v1 = pick("v1", clusters[0]);
    const v2 = pick(
        "v2",
        clusters.find((c) => c !== v1),
    );
    if (o.enabled === true && clusters.length < 2) {
        errors.push(
            `${path}: the smoke test needs two clusters (v1 in one, v2 in another); the mesh has ${clusters.length}`,
        );
    } else if (v1 !== undefined && v1 === v2) {
        errors.push(
            `${path}.v2: ${excerpt(v2)} is also \`v1\`; put v2 in another cluster, or the test proves nothing`,
        );
    }
    const timeout = o.timeoutMinutes ?? 10;
    // A day at most: the job's activeDeadlineSeconds and `pulumi up` wait this long.
    if (typeof timeout !== "number" || !Number.isInteger(timeout) || timeout < 1 || timeout > 1440) {
        errors.push(
            `${path}.timeoutMinutes: must be a whole number from 1 to 1440 (a day), got ${excerpt(timeout)}`,
        );
    }
    if (errors.length > 0 || o.enabled !== true) return { errors };
    return {
        settings: { namespace: namespace as string, v1: v1!, v2: v2!, timeoutMinutes: timeout as number },
        errors,
    };
}

/**
 * A Kubernetes object as the smoke test emits it, its `spec` typed by the Kubernetes provider's input types
 * (generated from Kubernetes' OpenAPI document), so that a misspelt field does not compile.
 */
export interface SmokeObject<Spec = undefined> {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: {
        readonly name: string;
        readonly namespace?: string;
        readonly labels?: Record<string, string>;
        readonly annotations?: Record<string, string>;
    };
    readonly spec?: Spec;
}

/** The smoke test's objects for one cluster, in creation order, keyed by their role. */
export interface SmokeClusterObjects {
    readonly namespace: SmokeObject;
    readonly service: SmokeObject<k8s.types.input.core.v1.ServiceSpec>;
    /** `helloworld-v1` or `helloworld-v2` where this cluster runs one. */
    readonly helloworld?: SmokeObject<k8s.types.input.apps.v1.DeploymentSpec>;
    readonly client: SmokeObject<k8s.types.input.apps.v1.DeploymentSpec>;
    readonly job: SmokeObject<k8s.types.input.batch.v1.JobSpec>;
}

const helloworldPort = 5000;

/**
 * The shell the Job runs: calls helloworld until it has answered from v1 and from v2, then succeeds; gives up
 * (non-zero) at the deadline and says what it saw and where to look. Only POSIX sh and curl. The last words go
 * to stderr, which `FallbackToLogsOnError` makes the container's termination message: what the Kubernetes
 * provider reports when the Job fails the update.
 */
export function smokeScript(
    namespace: string,
    timeoutSeconds: number,
    where: { readonly cluster: string; readonly stack: string },
): string {
    const url = `http://helloworld.${namespace}:${helloworldPort}/hello`;
    return [
        "set -u",
        `deadline=$(( $(date +%s) + ${timeoutSeconds} ))`,
        "v1=0; v2=0; tries=0",
        'while [ "$(date +%s)" -lt "$deadline" ]; do',
        "  tries=$((tries + 1))",
        `  out=$(curl -s --max-time 5 ${url} || true)`,
        '  case "$out" in *"version: v1"*) v1=1 ;; *"version: v2"*) v2=1 ;; esac',
        '  if [ "$v1" = 1 ] && [ "$v2" = 1 ]; then',
        '    echo "saw v1 and v2 after $tries calls: cross-cluster routing works"; exit 0',
        "  fi",
        "  sleep 1",
        "done",
        `echo "smoke test in ${where.cluster}: after $tries calls saw v1=$v1 v2=$v2, so helloworld in the other ` +
            `cluster is not reached through the east-west gateways; run: npm run verify -- --stack ${where.stack}" >&2`,
        "exit 1",
    ].join("\n");
}

/** Every object of the smoke test in `cluster` (`stack` names the stack in the Job's failure message). */
export function smokeObjects(
    settings: SmokeTestSettings,
    cluster: string,
    revision: string | undefined,
    stack: string,
): SmokeClusterObjects {
    const ns = settings.namespace;
    const version = cluster === settings.v1 ? "v1" : cluster === settings.v2 ? "v2" : undefined;
    const namespace: SmokeObject = {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: ns, labels: { ...injectionLabel(revision) } },
    };
    const service: SmokeClusterObjects["service"] = {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "helloworld", namespace: ns, labels: { app: "helloworld", service: "helloworld" } },
        spec: { ports: [{ port: helloworldPort, name: "http" }], selector: { app: "helloworld" } },
    };
    const helloworld: SmokeClusterObjects["helloworld"] = version && {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: `helloworld-${version}`, namespace: ns, labels: { app: "helloworld", version } },
        spec: {
            replicas: 1,
            selector: { matchLabels: { app: "helloworld", version } },
            template: {
                metadata: { labels: { app: "helloworld", version } },
                spec: {
                    containers: [
                        {
                            name: "helloworld",
                            image: version === "v1" ? smokeImages.helloworldV1 : smokeImages.helloworldV2,
                            resources: { requests: { cpu: "100m" } },
                            imagePullPolicy: "IfNotPresent",
                            ports: [{ containerPort: helloworldPort }],
                        },
                    ],
                },
            },
        },
    };
    const client: SmokeClusterObjects["client"] = {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "curl", namespace: ns, labels: { app: "curl" } },
        spec: {
            replicas: 1,
            selector: { matchLabels: { app: "curl" } },
            template: {
                metadata: { labels: { app: "curl" } },
                spec: {
                    terminationGracePeriodSeconds: 0,
                    containers: [
                        {
                            name: "curl",
                            image: smokeImages.curl,
                            command: ["/bin/sleep", "infinity"],
                            imagePullPolicy: "IfNotPresent",
                        },
                    ],
                },
            },
        },
    };
    const timeoutSeconds = settings.timeoutMinutes * 60;
    const job: SmokeClusterObjects["job"] = {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: smokeJobName, namespace: ns, labels: { app: "smoke-test" } },
        spec: {
            backoffLimit: 0,
            // A little longer than the script's own deadline, so the script's message is what fails it.
            activeDeadlineSeconds: timeoutSeconds + 60,
            template: {
                metadata: {
                    labels: { app: "smoke-test" },
                    // As a native sidecar the proxy starts before the script and stops once it exits, so
                    // the Job can complete (Kubernetes 1.29+; Istio 1.30 needs 1.32 anyway).
                    annotations: { "sidecar.istio.io/nativeSidecar": "true" },
                },
                spec: {
                    restartPolicy: "Never",
                    containers: [
                        {
                            name: "smoke-test",
                            image: smokeImages.curl,
                            command: ["/bin/sh", "-c", smokeScript(ns, timeoutSeconds, { cluster, stack })],
                            imagePullPolicy: "IfNotPresent",
                            terminationMessagePolicy: "FallbackToLogsOnError",
                        },
                    ],
                },
            },
        },
    };
    return { namespace, service, ...(helloworld ? { helloworld } : {}), client, job };
}
