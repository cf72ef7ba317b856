/** Reads `istio-multicluster:ingress`: the ingress gateway and its hosts. */
import { excerpt, parseCidr, isObject } from "../checks";
import type { ClusterSpec, ResourceSettings, ServiceType } from "../core";
import { Reader, readResources } from "../reader";
import { GlobalService, IngressHost, IngressSettings } from "./types";
import { P, Problems, dnsName, prune, secretName } from "./problems";

export const gatewayKeys = [
    "serviceType",
    "sourceRanges",
    "serviceAnnotations",
    "replicas",
    "autoscale",
    "pdb",
    "resources",
];

export function readIngress(
    p: Problems,
    raw: unknown,
    clusters: readonly ClusterSpec[],
    services: readonly GlobalService[],
): IngressSettings | undefined {
    const path = `${P}:ingress`;
    const o = p.map(raw, path);
    if (!o) return undefined;
    p.keys(o, path, ["clusters", ...gatewayKeys, "hosts"]);
    const names = clusters.map((c) => c.name);
    let chosen = clusters.filter((c) => c.role === "primary").map((c) => c.name);
    const rawClusters = p.list(o.clusters, `${path}.clusters`, "cluster names");
    if (rawClusters) {
        chosen = [];
        rawClusters.forEach((c, j) => {
            if (typeof c !== "string" || !names.includes(c))
                return p.fail(
                    `${path}.clusters[${j}]`,
                    `${excerpt(c)} is not a cluster of the mesh; clusters are: ${names.join(", ")}`,
                );
            if (chosen.includes(c)) return p.fail(`${path}.clusters[${j}]`, `${excerpt(c)} is listed twice`);
            chosen.push(c);
        });
    }
    const serviceType: ServiceType =
        p.oneOf(
            o.serviceType,
            `${path}.serviceType`,
            ["LoadBalancer", "NodePort"] as const,
            "LoadBalancer",
        ) ?? "LoadBalancer";
    let sourceRanges: string[] | undefined;
    const ranges = p.list(o.sourceRanges, `${path}.sourceRanges`, "CIDRs");
    if (ranges) {
        sourceRanges = [];
        ranges.forEach((c, j) => {
            if (typeof c !== "string" || parseCidr(c) === undefined)
                return p.fail(`${path}.sourceRanges[${j}]`, `${excerpt(c)} is not a CIDR such as 10.0.0.0/8`);
            sourceRanges!.push(c);
        });
        if (serviceType === "NodePort")
            p.fail(
                `${path}.sourceRanges`,
                "Kubernetes refuses loadBalancerSourceRanges on a NodePort Service; remove it or use a LoadBalancer",
            );
    }
    const serviceAnnotations = p.annotations(o.serviceAnnotations, `${path}.serviceAnnotations`);
    const replicas = p.int(o.replicas, `${path}.replicas`, 1, 1000);
    let autoscale: { min: number; max: number } | undefined;
    const a = p.map(o.autoscale, `${path}.autoscale`);
    if (a) {
        p.keys(a, `${path}.autoscale`, ["min", "max"]);
        const min = p.int(a.min, `${path}.autoscale.min`, 1, 1000);
        const max = p.int(a.max, `${path}.autoscale.max`, 1, 1000);
        if (min === undefined || max === undefined) {
            if (a.min === undefined || a.max === undefined)
                p.fail(`${path}.autoscale`, "needs both `min` and `max`");
        } else if (max < min)
            p.fail(`${path}.autoscale.max`, `${max} is less than min ${min}; set max to at least ${min}`);
        else autoscale = { min, max };
    }
    if (o.replicas !== undefined && o.autoscale !== undefined)
        p.fail(path, "`replicas` and `autoscale` cannot both be set; keep one");
    const pdb = o.pdb === undefined ? undefined : p.boolean(o.pdb, `${path}.pdb`);
    // The same reader as every other section's resources: quantities as Kubernetes parses them (`cpu: 1`,
    // `129e6`, `1Pi`), requests not above limits.
    const resourceReader = new Reader();
    const resources: ResourceSettings | undefined = readResources(resourceReader, o, path);
    p.errors.push(...resourceReader.errors);

    const hosts: IngressHost[] = [];
    p.list(o.hosts, `${path}.hosts`, "hosts")?.forEach((h, j) => {
        const hp = `${path}.hosts[${j}]`;
        if (!isObject(h)) return p.fail(hp, `must be a map with \`host\` and \`service\`, got ${excerpt(h)}`);
        p.keys(h, hp, ["host", "service", "namespace", "port", "credentialName"]);
        const host = p.string(
            h.host,
            `${hp}.host`,
            dnsName,
            "a fully qualified DNS name such as hello.example.com",
            true,
        );
        if (host !== undefined && host.length > 253) p.fail(`${hp}.host`, "is longer than 253 characters");
        if (host !== undefined && hosts.some((x) => x.host === host))
            p.fail(`${hp}.host`, `${excerpt(host)} is listed twice; one entry per host`);
        const credentialName = p.string(
            h.credentialName,
            `${hp}.credentialName`,
            secretName,
            "a Secret name",
        );
        const serviceName = p.label(h.service, `${hp}.service`, true);
        const namespace = p.label(h.namespace, `${hp}.namespace`);
        let service: GlobalService | undefined;
        if (serviceName !== undefined) {
            const matches = services.filter(
                (s) => s.name === serviceName && (namespace === undefined || s.namespace === namespace),
            );
            const known = services.map((s) => `${s.namespace}/${s.name}`).join(", ") || "none";
            if (matches.length === 0)
                p.fail(
                    `${hp}.service`,
                    `${excerpt(serviceName)}${namespace ? ` in ${namespace}` : ""} is not one of istio-multicluster:services; services are: ${known}`,
                );
            else if (matches.length > 1)
                p.fail(
                    `${hp}.namespace`,
                    `required: ${excerpt(serviceName)} is a service in ${matches.map((s) => s.namespace).join(" and ")}`,
                );
            else service = matches[0];
        }
        let port: number | undefined;
        if (service) {
            const http = service.ports.filter((x) => x.protocol !== "TCP");
            port = p.port(h.port, `${hp}.port`, false);
            if (port === undefined && h.port === undefined) {
                port = http[0]?.number;
                if (port === undefined)
                    p.fail(
                        `${hp}.service`,
                        `${excerpt(service.name)} has no HTTP, HTTP2 or GRPC port; ingress routes HTTP`,
                    );
            } else if (port !== undefined && !http.some((x) => x.number === port)) {
                p.fail(
                    `${hp}.port`,
                    `${port} is not an HTTP, HTTP2 or GRPC port of ${service.name}; its ports are: ${service.ports.map((x) => `${x.number} (${x.protocol})`).join(", ")}`,
                );
                port = undefined;
            }
        }
        if (host !== undefined && service !== undefined && port !== undefined) {
            hosts.push(prune({ host, service, port, credentialName, index: j }));
        }
    });
    return {
        clusters: chosen,
        gateway: prune({
            serviceType,
            sourceRanges,
            serviceAnnotations,
            replicas,
            autoscale,
            pdb,
            resources,
        }),
        hosts,
    };
}

/**
 * Validates `istio-multicluster:services`, `externalServices` and `ingress` against the validated clusters:
 * every problem at once, each with its config path and fix. A missing key is an empty list (no ingress); when
 * none of the three is set, `traffic` is undefined. `namespaceNames` are the mesh's application namespaces
 * (`istio-multicluster:namespaces`); undefined or empty, service namespaces are not cross-checked yet.
 */
