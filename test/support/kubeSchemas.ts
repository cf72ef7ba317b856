/**
 * A structural check of core Kubernetes objects against the models `@kubernetes/client-node` generates from
 * the Kubernetes OpenAPI document (each model's `attributeTypeMap`: field names and types).
 *
 * What it catches: a field Kubernetes does not have (a typo, a field at the wrong level), and a value of the
 * wrong type. What it cannot: required fields and enum values (the generated models do not carry them), and
 * anything the API server validates beyond the schema. Those are asserted as exact objects in the tests.
 */
import type * as ClientNode from "@kubernetes/client-node" with { "resolution-mode": "import" };

// client-node 1.x is an ES module; Node 20.19+ loads it with require (see tools/verify/kube.ts).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kc = require("@kubernetes/client-node") as typeof ClientNode;

interface Attribute {
    readonly name: string;
    readonly baseName: string;
    readonly type: string;
}

type Model = { getAttributeTypeMap(): Attribute[] };

/** The model class of each kind the tests emit, by `apiVersion/kind`. */
const roots: Record<string, string> = {
    "v1/Namespace": "V1Namespace",
    "v1/Service": "V1Service",
    "v1/Secret": "V1Secret",
    "apps/v1/Deployment": "V1Deployment",
    "batch/v1/Job": "V1Job",
    "networking.k8s.io/v1/NetworkPolicy": "V1NetworkPolicy",
    "v1/ResourceQuota": "V1ResourceQuota",
    "v1/LimitRange": "V1LimitRange",
    "scheduling.k8s.io/v1/PriorityClass": "V1PriorityClass",
    // What the observability charts render (test/charts).
    "v1/ConfigMap": "V1ConfigMap",
    "v1/ServiceAccount": "V1ServiceAccount",
    "v1/PersistentVolumeClaim": "V1PersistentVolumeClaim",
    "apps/v1/StatefulSet": "V1StatefulSet",
    "apps/v1/DaemonSet": "V1DaemonSet",
    "rbac.authorization.k8s.io/v1/ClusterRole": "V1ClusterRole",
    "rbac.authorization.k8s.io/v1/ClusterRoleBinding": "V1ClusterRoleBinding",
    "rbac.authorization.k8s.io/v1/Role": "V1Role",
    "rbac.authorization.k8s.io/v1/RoleBinding": "V1RoleBinding",
    "networking.k8s.io/v1/Ingress": "V1Ingress",
};

function model(name: string): Model | undefined {
    const m = (kc as unknown as Record<string, unknown>)[name] as Partial<Model> | undefined;
    return typeof m?.getAttributeTypeMap === "function" ? (m as Model) : undefined;
}

function check(value: unknown, type: string, path: string, problems: string[]): void {
    if (value === undefined || value === null) return;
    const array = /^Array<(.+)>$/.exec(type);
    if (array) {
        if (!Array.isArray(value)) problems.push(`${path}: must be a list (${type})`);
        else value.forEach((v, i) => check(v, array[1]!, `${path}[${i}]`, problems));
        return;
    }
    const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
    if (map) {
        if (typeof value !== "object" || Array.isArray(value))
            problems.push(`${path}: must be a map (${type})`);
        else for (const [k, v] of Object.entries(value)) check(v, map[1]!, `${path}.${k}`, problems);
        return;
    }
    switch (type) {
        case "string":
        case "number":
        case "boolean":
            if (typeof value !== type)
                problems.push(`${path}: must be a ${type}, got ${JSON.stringify(value)}`);
            return;
        case "IntOrString":
            if (typeof value !== "string" && typeof value !== "number")
                problems.push(`${path}: must be a number or a string`);
            return;
        case "Date":
            if (typeof value !== "string") problems.push(`${path}: must be a timestamp string`);
            return;
        case "any":
        case "object":
            return;
    }
    const m = model(type);
    if (!m) {
        problems.push(`${path}: no model ${type} to check against`);
        return;
    }
    if (typeof value !== "object" || Array.isArray(value)) {
        problems.push(`${path}: must be an object (${type})`);
        return;
    }
    const attributes = m.getAttributeTypeMap();
    for (const [k, v] of Object.entries(value)) {
        const a = attributes.find((x) => x.baseName === k);
        if (!a) {
            problems.push(`${path}.${k}: not a field of ${type}`);
            continue;
        }
        check(v, a.type, `${path}.${k}`, problems);
    }
}

/** Problems of `obj` against its kind's model; empty when it conforms. */
export function validateKubeObject(obj: { apiVersion: string; kind: string }): string[] {
    const root = roots[`${obj.apiVersion}/${obj.kind}`];
    if (!root) return [`${obj.apiVersion}/${obj.kind}: no model known to the test`];
    const problems: string[] = [];
    check(obj, root, obj.kind, problems);
    return problems;
}
