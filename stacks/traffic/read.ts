/** Reads the three traffic keys together, with the checks that span them. */
import { excerpt } from "../checks";
import type { ClusterSpec } from "../core";
import { ExternalService, GlobalService, RawTraffic, TrafficSpec, istioSystem } from "./types";
import { P, Problems, prune } from "./problems";
import { readService } from "./services";
import { readExternal } from "./external";
import { readIngress } from "./ingress";

export function validateTraffic(
    raw: RawTraffic,
    clusters: readonly ClusterSpec[],
    namespaceNames?: readonly string[],
): { readonly traffic?: TrafficSpec; readonly errors: readonly string[] } {
    if (raw.services === undefined && raw.externalServices === undefined && raw.ingress === undefined) {
        return { errors: [] };
    }
    const p = new Problems();
    const services: GlobalService[] = [];
    p.list(raw.services, `${P}:services`, "services")?.forEach((s, i) => {
        const svc = readService(p, s, i, clusters);
        if (!svc) return;
        const prev = services.find((x) => x.name === svc.name && x.namespace === svc.namespace);
        if (prev) {
            p.fail(
                `${P}:services[${i}].name`,
                `${excerpt(svc.name)} in namespace ${svc.namespace} is already services[${prev.index}]; merge the two entries`,
            );
        } else services.push(svc);
    });
    const externalServices: ExternalService[] = [];
    p.list(raw.externalServices, `${P}:externalServices`, "external services")?.forEach((s, i) => {
        const ext = readExternal(p, s, i);
        if (!ext) return;
        const prev = externalServices.find((x) => x.name === ext.name && x.namespace === ext.namespace);
        if (prev) {
            return p.fail(
                `${P}:externalServices[${i}].name`,
                `${excerpt(ext.name)} in namespace ${ext.namespace} is already externalServices[${prev.index}]; names must be unique`,
            );
        }
        ext.hosts.forEach((h, j) => {
            // A MESH_EXTERNAL entry for a name of the cluster's own services would shadow that service.
            const shadowed = services.find((g) =>
                [`${g.name}.${g.namespace}.svc.cluster.local`, `${g.name}.${g.namespace}.svc`].includes(h),
            );
            if (shadowed || /\.svc(\.cluster\.local)?$/.test(h))
                p.fail(
                    `${P}:externalServices[${i}].hosts[${j}]`,
                    `${excerpt(h)} is ${shadowed ? `the global service services[${shadowed.index}]` : "a name of the clusters' own Services"}` +
                        "; an external service of that name would shadow it in the mesh: external hosts are names outside the clusters",
                );
            const other = externalServices.find((x) => x.hosts.includes(h));
            if (other)
                p.fail(
                    `${P}:externalServices[${i}].hosts[${j}]`,
                    `${excerpt(h)} is already a host of externalServices[${other.index}]; declare each host once`,
                );
        });
        externalServices.push(ext);
    });
    const ingress = raw.ingress === undefined ? undefined : readIngress(p, raw.ingress, clusters, services);
    const namespaceProblems = checkServiceNamespaces(services, namespaceNames, externalServices);
    return {
        traffic: prune({ services, externalServices, ingress }),
        errors: [...p.errors, ...namespaceProblems],
    };
}

/**
 * Services (and external services outside `istio-system`) whose namespace is not one of the mesh's application
 * namespaces (`istio-multicluster:namespaces`), as problems with their path: their objects could not be
 * created there. Undefined `namespaceNames` means the namespaces are not known (they were refused): nothing is
 * checked; an empty list means none is declared, so every such service is refused.
 */
export function checkServiceNamespaces(
    services: readonly GlobalService[],
    namespaceNames: readonly string[] | undefined,
    externalServices: readonly ExternalService[] = [],
): string[] {
    if (namespaceNames === undefined) return [];
    const declared = namespaceNames.length > 0 ? namespaceNames.join(", ") : "none is declared";
    const problem = (key: string, s: { namespace: string; index: number }) =>
        `${P}:${key}[${s.index}].namespace: ${excerpt(s.namespace)} is not one of istio-multicluster:namespaces ` +
        `(${declared}); add it there or move the service`;
    return [
        ...services.filter((s) => !namespaceNames.includes(s.namespace)).map((s) => problem("services", s)),
        ...externalServices
            .filter((e) => e.namespace !== istioSystem && !namespaceNames.includes(e.namespace))
            .map((e) => problem("externalServices", e)),
    ];
}
