/**
 * Workloads the stack runs itself (the cross-cluster smoke test's, today): what they run must not change
 * under them. A tag such as `latest`, or none, lets a registry push change what the next pod starts, so a
 * smoke test could pass or fail for reasons that are not the mesh's.
 */
import { ResourceValidationPolicy } from "@pulumi/policy/policy";
import { isUnknown, list, resourceOf, str } from "./lib";

/** Kubernetes workload types whose pod template the stack writes itself. */
const workloadTypes = new Set([
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:batch/v1:Job",
]);

/** `name@sha256:<64 hex>`, or a tag that is not `latest`. */
export function isPinnedImage(image: string): boolean {
    if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
    if (image.includes("@")) return false;
    // The tag is what follows the last ':' after the last '/' (a registry port is before a '/').
    const last = image.slice(image.lastIndexOf("/") + 1);
    const colon = last.lastIndexOf(":");
    if (colon === -1) return false;
    const tag = last.slice(colon + 1);
    return tag !== "" && tag !== "latest";
}

/** Containers of the stack's own workloads name their image by digest or by an exact tag. */
export const workloadImagesPinned: ResourceValidationPolicy = {
    name: "workload-images-pinned",
    description:
        "Containers of the stack's own Deployments and Jobs name their image by digest or an exact tag.",
    validateResource: (args, reportViolation) => {
        const r = resourceOf(args);
        if (!workloadTypes.has(r.type)) return;
        for (const field of ["initContainers", "containers"]) {
            const containers = list(r.props, "spec", "template", "spec", field);
            if (containers === undefined || isUnknown(containers)) continue;
            for (const c of containers) {
                const image = str(c, "image");
                if (isUnknown(image)) continue;
                const name = str(c, "name");
                if (image === undefined || !isPinnedImage(image)) {
                    reportViolation(
                        `${r.type.split(":").pop()} ${r.name}: container ${isUnknown(name) ? "?" : (name ?? "?")} ` +
                            `runs ${image === undefined ? "no image" : `"${image}"`}; pin it by digest ` +
                            `(image@sha256:...) or an exact version tag, never latest`,
                    );
                }
            }
        }
    },
};

/** The workload policies. */
export const workloadPolicies = [workloadImagesPinned];
