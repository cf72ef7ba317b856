/** Reads replicas, autoscaling, PDBs, resources and east-west gateway settings, and checks gateway addresses. */
import { excerpt, ipFamily, isHostName, isLocalHostName, parseCidr, specialRange } from "../checks";
import { EastWestSettings, ServiceType, WorkloadSettings } from "../topology";
import { configValue, Obj, prune, Reader, readResources } from "../reader";

/** The largest replica count Kubernetes stores (int32). */
export const maxReplicas = 2147483647;

export const workloadKeys = ["replicas", "autoscale", "pdb", "resources"] as const;
export const eastWestKeys = [...workloadKeys, "serviceType", "sourceRanges", "serviceAnnotations"] as const;

export function readWorkload(
    r: Reader,
    obj: Obj,
    path: string,
    base: WorkloadSettings = {},
): WorkloadSettings {
    const replicas = r.integer(obj, "replicas", path, 1, undefined, maxReplicas);
    let autoscale: WorkloadSettings["autoscale"];
    const a = r.object(obj, "autoscale", path);
    if (a) {
        const p = `${path}.autoscale`;
        r.knownKeys(a, p, ["min", "max"]);
        const min = r.integer(a, "min", p, 1, undefined, maxReplicas);
        const max = r.integer(a, "max", p, 1, undefined, maxReplicas);
        if (min === undefined || max === undefined) {
            if (configValue(a, "min") === undefined || configValue(a, "max") === undefined)
                r.fail(p, "needs both `min` and `max`");
        } else if (max < min) {
            r.fail(`${p}.max`, `${max} is less than min ${min}; set max to at least ${min}`);
        } else {
            autoscale = { min, max };
        }
    }
    if (configValue(obj, "replicas") !== undefined && configValue(obj, "autoscale") !== undefined) {
        r.fail(path, "`replicas` and `autoscale` cannot both be set; keep one");
    }
    const pdb = configValue(obj, "pdb") === undefined ? base.pdb : r.boolean(obj, "pdb", path, false);
    const resources = readResources(r, obj, path) ?? base.resources;
    // A cluster that sets replicas drops the mesh's autoscale and the other way round.
    const scaling =
        replicas !== undefined || autoscale !== undefined
            ? { replicas, autoscale }
            : { replicas: base.replicas, autoscale: base.autoscale };
    return prune({ ...scaling, pdb, resources });
}

/** Where each east-west setting of a cluster came from, for messages about inherited settings. */
export interface EastWestOrigin {
    readonly serviceType: string;
    readonly sourceRanges: string;
}

export function readEastWest(
    r: Reader,
    obj: Obj,
    path: string,
    base?: { settings: EastWestSettings; origin: EastWestOrigin },
    perCluster = false,
): { settings: EastWestSettings; origin: EastWestOrigin } {
    r.knownKeys(obj, path, perCluster ? [...eastWestKeys, "address"] : eastWestKeys);
    const ownType = r.oneOf(obj, "serviceType", path, ["LoadBalancer", "NodePort"] as const);
    const serviceType: ServiceType = ownType ?? base?.settings.serviceType ?? "LoadBalancer";
    let sourceRanges = base?.settings.sourceRanges;
    let rangesOrigin = base?.origin.sourceRanges ?? `${path}.sourceRanges`;
    const rawRanges = configValue(obj, "sourceRanges");
    if (rawRanges !== undefined) {
        rangesOrigin = `${path}.sourceRanges`;
        if (!Array.isArray(rawRanges)) {
            r.fail(`${path}.sourceRanges`, `must be a list of CIDRs, got ${excerpt(rawRanges)}`);
        } else {
            let ok = true;
            rawRanges.forEach((c, i) => {
                if (typeof c !== "string" || parseCidr(c) === undefined) {
                    ok = false;
                    r.fail(
                        `${path}.sourceRanges[${i}]`,
                        `${excerpt(c)} is not a CIDR such as 10.0.0.0/8 or fd00::/8`,
                    );
                }
            });
            sourceRanges = ok ? (rawRanges as string[]) : undefined;
        }
    }
    const serviceAnnotations =
        r.annotations(obj, "serviceAnnotations", path) ?? base?.settings.serviceAnnotations;
    let address: string | undefined;
    if (perCluster) {
        address = r.string(obj, "address", path, false, "");
        if (address !== undefined && !checkAddress(r, `${path}.address`, address)) address = undefined;
    }
    return {
        settings: prune({
            ...readWorkload(r, obj, path, base?.settings),
            serviceType,
            sourceRanges,
            serviceAnnotations,
            address,
        }),
        origin: {
            serviceType: ownType !== undefined ? `${path}.serviceType` : (base?.origin.serviceType ?? path),
            sourceRanges: rangesOrigin,
        },
    };
}

/** An east-west address: an IP other clusters can reach (Kubernetes' rules for externalIPs), or a host name. */
export function checkAddress(r: Reader, path: string, address: string): boolean {
    const family = ipFamily(address);
    if (family !== 0) {
        const range = specialRange(address);
        if (range === "loopback" || range === "unspecified") {
            r.fail(
                path,
                `${excerpt(address)} is ${range === "loopback" ? "a loopback" : "an unspecified"} address, which ` +
                    `other clusters cannot reach; set the address they reach this gateway at (for kind, the node ` +
                    `container's IP)`,
            );
            return false;
        }
        if (range !== undefined) {
            r.fail(
                path,
                `${excerpt(address)} is a ${range} address, which Kubernetes refuses as a Service's external IP ` +
                    `and other clusters cannot reach; set a unicast address they reach this gateway at`,
            );
            return false;
        }
        return true;
    }
    if (!isHostName(address)) {
        r.fail(
            path,
            `${excerpt(address)} is neither an IP address nor a DNS name; set the address the other ` +
                `clusters reach this gateway at`,
        );
        return false;
    }
    if (isLocalHostName(address)) {
        r.fail(
            path,
            `${excerpt(address)} is a loopback address, which other clusters cannot reach; set the ` +
                `address they reach this gateway at (for kind, the node container's IP)`,
        );
        return false;
    }
    return true;
}
