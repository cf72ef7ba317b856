/**
 * Decides whether a stack configuration describes a possible mesh, and turns it into a `Topology`.
 *
 * Pure: it takes the raw config values and which keys Pulumi holds as secret, and returns either the
 * topology or every problem at once, each naming its config path and the fix. Whether a possible mesh is
 * also a safe one is the policy pack's question, not this module's.
 *
 * Rules every reader here follows: a key's value is looked up only if it is the map's own (`Object.hasOwn`),
 * so a key named like a prototype member (`constructor`) is just a key; `null` and `""` mean the key is not
 * set, everywhere; a bad value is shown only as a short escaped excerpt (`checks.excerpt`), and a value that
 * may be key material is never shown at all.
 */
import { validateHardening } from "../hardening";
import { readSmokeTest } from "../smokeTest";
import { validateObservability } from "../observability";
import {
    canonicalAddress,
    checkApiServer,
    didYouMean,
    excerpt,
    ipFamily,
    isDnsLabel,
    isDnsSubdomain,
    isLabelValue,
    isObject,
    labelValuePattern,
    nameLimits,
} from "../checks";
import { remoteSecretName } from "../names";
import { maxClustersPerReaderSecret, remoteSecretLayouts } from "../remoteSecrets";
import {
    ClusterAccess,
    ClusterRole,
    ClusterSpec,
    projectName,
    Topology,
    topLevelConfigKeys,
} from "../topology";
import { validateSecurity } from "../security";
import { validateTraffic } from "../traffic";
import { configValue, Derived, Obj, prune, Reader } from "../reader";

import { RawConfig, ValidationResult } from "./raw";
import { readEastWest, readWorkload, workloadKeys } from "./workloads";
import { readCa } from "./ca";
import { readContext } from "./sources";
import { readIstio } from "./istio";
import { readReaderTokens } from "./tokens";

export { isIpAddress, isLoopbackHost } from "../checks";
export { configValue } from "../reader";

export { RawConfig, TopologyError, ValidationResult, rawConfigFrom } from "./raw";
export { maxReplicas } from "./workloads";
export { caDefaults } from "./ca";
export { chartSourceProblems } from "./sources";
export { namesFromRevision } from "./istio";

/** Every name the program derives from a cluster name (the longest of each kind). */
export function namesFromCluster(name: string): Derived[] {
    return [
        {
            what: "the remote secret",
            name: remoteSecretName(name),
            limit: nameLimits.dnsSubdomain,
            by: "Kubernetes",
        },
        {
            what: "the label value topology.istio.io/cluster",
            name,
            limit: nameLimits.labelValue,
            by: "Kubernetes",
        },
    ];
}

/**
 * Top-level config keys: every key of this project must be one the program reads, and a key of another
 * namespace that is this project's name misspelt (`istio-multicluser:mesh`) is refused too.
 */
export function checkConfigKeys(r: Reader, keys: readonly string[]): void {
    const known = [...topLevelConfigKeys] as string[];
    for (const key of keys) {
        const colon = key.indexOf(":");
        const namespace = colon === -1 ? projectName : key.slice(0, colon);
        const name = colon === -1 ? key : key.slice(colon + 1);
        if (namespace === projectName) {
            if (known.includes(name)) continue;
            const pathLike = known.find((k) => name.startsWith(`${k}.`) || name.startsWith(`${k}[`));
            const near = didYouMean(name, known);
            r.fail(
                /^[A-Za-z0-9_.[\]-]{1,100}$/.test(name)
                    ? `${projectName}:${name}`
                    : `${projectName}:${excerpt(name)}`,
                pathLike
                    ? `unknown key; to set part of \`${pathLike}\`, run \`pulumi config set --path ` +
                          `'${projectName}:${pathLike}...'\` (with --path, not as one key name)`
                    : `unknown key; ${near ? `did you mean \`${projectName}:${near}\`?` : `this project reads: ${known.join(", ")}`}`,
            );
        } else if (namespace !== "pulumi" && didYouMean(namespace, [projectName]) !== undefined) {
            r.fail(
                excerpt(key),
                `is in namespace ${excerpt(namespace)}, not this project's; did you mean \`${projectName}:` +
                    `${didYouMean(name, known) ?? name}\`?`,
            );
        }
    }
}

/** Validates the raw stack configuration; pure apart from wrapping secrets with `pulumi.secret`. */
export function validateTopology(raw: RawConfig, now: Date = new Date()): ValidationResult {
    const r = new Reader();
    const at = now.getTime();
    const meshPath = `${projectName}:mesh`;
    const clustersPath = `${projectName}:clusters`;
    if (raw.configKeys) checkConfigKeys(r, raw.configKeys);

    const rawMesh = raw.mesh === null || raw.mesh === "" ? undefined : raw.mesh;
    let mesh: Obj = {};
    if (rawMesh === undefined) {
        r.fail(meshPath, "required; set `meshId` and `istio.version` under it in Pulumi.<stack>.yaml");
    } else if (!isObject(rawMesh)) {
        r.fail(meshPath, `must be a map, got ${excerpt(rawMesh)}`);
    } else {
        mesh = rawMesh;
    }
    r.knownKeys(mesh, meshPath, [
        "meshId",
        "trustDomain",
        "istio",
        "ca",
        "controlPlane",
        "eastWest",
        "remoteSecrets",
        "readerTokens",
    ]);
    const remoteSecrets = r.oneOf(mesh, "remoteSecrets", meshPath, remoteSecretLayouts);
    const meshGiven = isObject(rawMesh);
    const meshId = meshGiven ? r.dnsLabel(mesh, "meshId", meshPath, true) : undefined;
    const trustDomain =
        r.matching(
            mesh,
            "trustDomain",
            meshPath,
            false,
            isDnsSubdomain,
            "a DNS name such as cluster.local (labels of at most 63 characters, 253 in all)",
        ) ?? "cluster.local";
    const istioObj = r.object(mesh, "istio", meshPath);
    const istioPath = `${meshPath}.istio`;
    if (!istioObj && meshGiven && configValue(mesh, "istio") === undefined) {
        r.fail(istioPath, "required; set `version` under it, e.g. `version: 1.30.3`");
    }
    const istio = istioObj ? readIstio(r, istioObj, istioPath) : undefined;
    const readerTokens = readReaderTokens(r, mesh, meshPath, istio);
    const cpObj = r.object(mesh, "controlPlane", meshPath) ?? {};
    r.knownKeys(cpObj, `${meshPath}.controlPlane`, workloadKeys);
    const controlPlane = readWorkload(r, cpObj, `${meshPath}.controlPlane`);
    const ewObj = r.object(mesh, "eastWest", meshPath) ?? {};
    const meshEastWest = readEastWest(r, ewObj, `${meshPath}.eastWest`);

    // Clusters.
    const givenClusters = raw.clusters === null || raw.clusters === "" ? undefined : raw.clusters;
    let rawClusters: unknown[] = [];
    if (givenClusters === undefined) {
        r.fail(clustersPath, "required; list the clusters of the mesh, at least one with `role: primary`");
    } else if (!Array.isArray(givenClusters) || givenClusters.length === 0) {
        r.fail(clustersPath, `must be a non-empty list of clusters, got ${excerpt(givenClusters)}`);
    } else {
        rawClusters = givenClusters;
    }
    const objs = rawClusters.map((c, i) => {
        if (!isObject(c)) r.fail(`${clustersPath}[${i}]`, `must be a map, got ${excerpt(c)}`);
        return isObject(c) ? c : undefined;
    });
    const nameOf = (c: Obj | undefined): unknown => (c ? configValue(c, "name") : undefined);
    const primaries = objs.flatMap((c) => {
        const name = nameOf(c);
        return c && configValue(c, "role") === "primary" && typeof name === "string" ? [name] : [];
    });
    // Which clusters get an east-west gateway (stacks/mesh.ts): every one in a multi-network mesh, else only
    // the primaries that serve remotes. A NodePort gateway's address is asked of those only.
    const networksGiven = new Set(objs.flatMap((c) => (c ? [configValue(c, "network")] : [])));
    const servingPrimaries = new Set(
        objs.flatMap((c) => (c && configValue(c, "role") === "remote" ? [configValue(c, "primary")] : [])),
    );
    const getsEastWestGateway = (name: string | undefined) =>
        networksGiven.size > 1 || (name !== undefined && servingPrimaries.has(name));
    // Names that are themselves invalid are reported on their own line, not offered as a fix.
    const primaryHint = primaries.filter(isDnsLabel).join(", ") || "none";
    const firstIndex = new Map<string, number>();
    const clusters: ClusterSpec[] = [];
    /** Values that must differ between clusters: the first path that used each. */
    const unique = new Map<string, string>();
    const once = (kind: string, value: string, path: string, what: string, shown: string): void => {
        const key = `${kind}\u0000${value}`;
        const first = unique.get(key);
        if (first === undefined) unique.set(key, path);
        else r.fail(path, `${shown} is also ${first}: ${what}`);
    };
    objs.forEach((c, i) => {
        if (!c) return;
        const path = `${clustersPath}[${i}]`;
        r.knownKeys(c, path, [
            "name",
            "role",
            "primary",
            "network",
            "region",
            "zone",
            "context",
            "kubeconfig",
            "apiServer",
            "eastWest",
        ]);
        let name = r.dnsLabel(c, "name", path, true);
        if (name !== undefined) {
            const prev = firstIndex.get(name);
            if (prev !== undefined) {
                r.fail(
                    `${path}.name`,
                    `${excerpt(name)} is already used by clusters[${prev}]; cluster names must be unique`,
                );
            } else {
                firstIndex.set(name, i);
            }
            if (!r.derived(`${path}.name`, name, namesFromCluster(name))) name = undefined;
        }
        const role: ClusterRole | undefined =
            configValue(c, "role") === undefined
                ? r.fail(`${path}.role`, "required; set it to `primary` or `remote`")
                : r.oneOf(c, "role", path, ["primary", "remote"] as const);
        let primary: string | undefined;
        if (role === "remote") {
            primary = r.string(
                c,
                "primary",
                path,
                true,
                `name the primary that serves this remote (primaries are: ${primaryHint})`,
            );
            if (primary !== undefined) {
                if (primary === name) {
                    r.fail(
                        `${path}.primary`,
                        `a remote cannot be its own primary; primaries are: ${primaryHint}`,
                    );
                } else if (!primaries.includes(primary)) {
                    const isCluster = objs.some((o) => nameOf(o) === primary);
                    r.fail(
                        `${path}.primary`,
                        isCluster
                            ? `${excerpt(primary)} is not a primary; primaries are: ${primaryHint}`
                            : `${excerpt(primary)} is no cluster of the mesh; a primary is removed only once no ` +
                                  `remote names it: move this remote to another primary (primaries are: ` +
                                  `${primaryHint}) or remove it too`,
                    );
                }
            }
        } else if (role === "primary" && configValue(c, "primary") !== undefined) {
            r.fail(`${path}.primary`, "only a remote names a primary; remove it or set `role: remote`");
        }
        const network = r.matching(
            c,
            "network",
            path,
            false,
            (s) => labelValuePattern.test(s),
            "a Kubernetes label value (letters, digits, '-', '_', '.')",
        );
        if (network !== undefined && !isLabelValue(network))
            r.fail(`${path}.network`, `${excerpt(network)} is longer than 63 characters; shorten it`);
        const region = r.matching(
            c,
            "region",
            path,
            false,
            isLabelValue,
            "a Kubernetes label value (the nodes' region)",
        );
        const zone = r.matching(
            c,
            "zone",
            path,
            false,
            isLabelValue,
            "a Kubernetes label value (the nodes' zone)",
        );
        if (zone !== undefined && region === undefined)
            r.fail(`${path}.zone`, "needs `region`; set the region too");
        let access: ClusterAccess | undefined;
        const hasContext = configValue(c, "context") !== undefined;
        const hasKubeconfig = configValue(c, "kubeconfig") !== undefined;
        if (hasContext && hasKubeconfig) {
            r.fail(path, "set exactly one of `context` and `kubeconfig`, not both");
        } else if (!hasContext && !hasKubeconfig) {
            r.fail(
                path,
                "set exactly one of `context` (a context of your kubeconfig file) or `kubeconfig` (a secret)",
            );
        } else if (hasContext) {
            const context = readContext(r, c, path);
            if (context !== undefined) {
                access = { kind: "context", context };
                once(
                    "context",
                    context,
                    `${path}.context`,
                    "both entries name one cluster; give each cluster of the mesh its own context",
                    excerpt(context),
                );
            }
        } else {
            const kubeconfig = r.secret(
                c,
                "kubeconfig",
                path,
                raw.secret.clusters,
                `set it with \`pulumi config set --secret --path '${path}.kubeconfig' < kubeconfig.yaml\``,
            );
            // Kubeconfigs are not compared: secret values are opaque to the offline plan, all alike.
            if (kubeconfig !== undefined) access = { kind: "kubeconfig", kubeconfig };
        }
        let apiServer = r.string(c, "apiServer", path, false, "");
        if (apiServer !== undefined) {
            const check = checkApiServer(apiServer);
            if (!check.ok) {
                r.fail(
                    `${path}.apiServer`,
                    `${check.showValue ? excerpt(apiServer) : "the address"} ${check.problem}`,
                );
                apiServer = undefined;
            } else {
                once(
                    "apiServer",
                    check.canonical,
                    `${path}.apiServer`,
                    "two clusters cannot share one API server; give each cluster its own address",
                    excerpt(apiServer),
                );
            }
        }
        const ewRaw = r.object(c, "eastWest", path) ?? {};
        const ew = readEastWest(r, ewRaw, `${path}.eastWest`, meshEastWest, true);
        const eastWest = ew.settings;
        const inherited = (origin: string) => (origin.startsWith(meshPath) ? ` (set in \`${origin}\`)` : "");
        if (eastWest.serviceType === "NodePort") {
            if (
                eastWest.address === undefined &&
                configValue(ewRaw, "address") === undefined &&
                getsEastWestGateway(name)
            ) {
                r.fail(
                    `${path}.eastWest.address`,
                    "required when the east-west gateway is a NodePort; set it to a node address the other clusters reach",
                );
            } else if (eastWest.address !== undefined && ipFamily(eastWest.address) === 0) {
                r.fail(
                    `${path}.eastWest.address`,
                    `${excerpt(eastWest.address)} is a host name, which a NodePort east-west gateway` +
                        `${inherited(ew.origin.serviceType)} cannot use: nothing listens at its ports, and istiod ` +
                        `derives no gateway address from it; set the IP address of a node the other clusters ` +
                        `reach, or use serviceType LoadBalancer`,
                );
            }
            if (eastWest.sourceRanges !== undefined && eastWest.sourceRanges.length > 0) {
                const forbidden =
                    "Kubernetes forbids loadBalancerSourceRanges on a NodePort Service; remove sourceRanges " +
                    "(and restrict access in the nodes' firewall), or use serviceType LoadBalancer";
                const rangesFromMesh = ew.origin.sourceRanges.startsWith(meshPath);
                if (rangesFromMesh && ew.origin.serviceType.startsWith(meshPath)) {
                    r.fail(
                        ew.origin.sourceRanges,
                        `cannot be combined with serviceType NodePort: ${forbidden}`,
                    );
                } else if (rangesFromMesh) {
                    r.fail(
                        ew.origin.serviceType,
                        `NodePort cannot be combined with the sourceRanges set in \`${ew.origin.sourceRanges}\`: ` +
                            `Kubernetes forbids loadBalancerSourceRanges on a NodePort Service; set ` +
                            `\`sourceRanges: []\` on this cluster, or use serviceType LoadBalancer`,
                    );
                } else {
                    r.fail(
                        ew.origin.sourceRanges,
                        `cannot be combined with serviceType NodePort${inherited(ew.origin.serviceType)}: ${forbidden}`,
                    );
                }
            }
        }
        if (eastWest.address !== undefined) {
            once(
                "address",
                canonicalAddress(eastWest.address),
                `${path}.eastWest.address`,
                "two east-west gateways cannot share one address; give each cluster its own",
                excerpt(eastWest.address),
            );
        }
        if (name !== undefined && role !== undefined && access !== undefined) {
            clusters.push({
                name,
                role,
                ...prune({ primary, network, region, zone, apiServer }),
                access,
                eastWest,
                index: i,
            });
        }
    });
    if (rawClusters.length > 0 && primaries.length === 0) {
        r.fail(clustersPath, "no cluster has `role: primary`; a mesh needs at least one control plane");
    }
    const hasNetwork = (c: Obj | undefined) => c !== undefined && configValue(c, "network") !== undefined;
    const named = objs.filter(hasNetwork).length;
    const present = objs.filter((c) => c).length;
    if (named > 0 && named < present) {
        const missing = objs.flatMap((c, i) => (c && !hasNetwork(c) ? [`clusters[${i}]`] : []));
        r.fail(
            clustersPath,
            `networks are named on some clusters but not on ${missing.join(", ")}; name a network on every ` +
                `cluster (multi-network) or on none (single network)`,
        );
    }
    const ca = readCa(r, mesh, raw.secret.mesh, primaries, at);
    const sec = validateSecurity(raw.namespaces, raw.security, { trustDomain, istio });
    if (!sec.ok) r.adopt(sec.errors);
    // Services live in the mesh's namespaces; while those are refused, only the traffic config's own checks run.
    const traffic = validateTraffic(raw, clusters, sec.ok ? sec.namespaces.map((n) => n.name) : undefined);
    r.adopt(traffic.errors);
    const smoke = readSmokeTest(
        raw.smokeTest,
        clusters.map((c) => c.name),
    );
    r.adopt(smoke.errors);
    const smokeNamespace = smoke.settings?.namespace;
    if (smokeNamespace !== undefined && sec.ok && sec.namespaces.some((n) => n.name === smokeNamespace)) {
        // Both would create a Namespace of that name in every cluster: the second fails, and a destroy of the
        // smoke test would delete the application's namespace.
        r.fail(
            `${projectName}:smokeTest.namespace`,
            `${excerpt(smokeNamespace)} is also in ${projectName}:namespaces; the smoke test makes a namespace of ` +
                "its own: give it another name",
        );
    }
    // Namespaces other sections create: observability needs one of its own.
    const takenNamespaces = new Map<string, string>(
        (sec.ok ? sec.namespaces : []).map((n) => [n.name, `${projectName}:namespaces`]),
    );
    if (smokeNamespace !== undefined)
        takenNamespaces.set(smokeNamespace, `${projectName}:smokeTest.namespace`);
    const observability = validateObservability(raw.observability, {
        clusters: clusters.map((c) => c.name),
        takenNamespaces,
    });
    r.adopt(observability.errors);

    if (remoteSecrets === "per-reader" && rawClusters.length - 1 > maxClustersPerReaderSecret) {
        r.fail(
            `${meshPath}.remoteSecrets`,
            `per-reader puts ${rawClusters.length - 1} kubeconfigs in each primary's one Secret, more than the ` +
                `${maxClustersPerReaderSecret} that fit in Kubernetes' 1 MiB Secret limit; use per-cluster`,
        );
    }
    if (r.errors.length > 0 || meshId === undefined || istio === undefined || !sec.ok) {
        // Hardening's own checks run too, so that every problem is reported at once.
        return { ok: false, errors: [...r.errors, ...validateHardening(raw.hardening, undefined).errors] };
    }
    const topology: Topology = {
        mesh: {
            meshId,
            trustDomain,
            ...(sec.security.trustDomainAliases.length > 0
                ? { trustDomainAliases: sec.security.trustDomainAliases }
                : {}),
            istio,
            ca,
            controlPlane,
            ...(remoteSecrets === "per-reader" ? { remoteSecrets } : {}),
            ...(readerTokens ? { readerTokens } : {}),
        },
        clusters,
        namespaces: sec.namespaces,
        security: sec.security,
        ...(traffic.traffic ? { traffic: traffic.traffic } : {}),
        ...(smoke.settings ? { smokeTest: smoke.settings } : {}),
        ...(observability.settings ? { observability: observability.settings } : {}),
    };
    // Quota floors are checked against what the rest of the topology needs (stacks/hardening.ts).
    const hardening = validateHardening(raw.hardening, topology);
    if (!hardening.settings) return { ok: false, errors: hardening.errors };
    return { ok: true, topology: { ...topology, hardening: hardening.settings } };
}
