/**
 * The clusters played for a plan run as an update (`preview: false`): what `pulumi up` would read back from
 * each resource once created, so every value handed to Helm or a Secret is known.
 */
import { ApplyOutputs } from "../../tools/planner";

/** The load balancer's reported address for a cluster: an IP, or a hostname as AWS load balancers report. */
export type LbKind = "ip" | "hostname";
const lbAddress = (cluster: string, kind: LbKind, n: number) =>
    kind === "ip" ? `203.0.113.${10 + n}` : `${cluster}-0123456789.elb.us-east-1.amazonaws.com`;

export function playCluster(kind: LbKind): ApplyOutputs {
    let services = 0;
    return (args) => {
        const inputs = args.inputs as Record<string, unknown>;
        if (args.type === "kubernetes:core/v1:Secret" && args.name.endsWith("-reader-token")) {
            return {
                data: {
                    token: Buffer.from("t").toString("base64"),
                    "ca.crt": Buffer.from("c").toString("base64"),
                },
            };
        }
        if (
            args.type === "tls:index/selfSignedCert:SelfSignedCert" ||
            args.type === "tls:index/locallySignedCert:LocallySignedCert"
        ) {
            return { certPem: `certificate of ${args.name}\n` };
        }
        if (args.type === "kubernetes:helm.sh/v3:Release") {
            return { status: { name: inputs.name, namespace: inputs.namespace, status: "deployed" } };
        }
        if (args.type === "kubernetes:core/v1:Service") {
            const cluster = args.name.replace(/-eastwestgateway-service$/, "");
            const address = lbAddress(cluster, kind, services++);
            return {
                status: {
                    loadBalancer: { ingress: [kind === "ip" ? { ip: address } : { hostname: address }] },
                },
            };
        }
        if (args.type === "random:index/randomPassword:RandomPassword") {
            return { result: `generated password of ${args.name}` };
        }
        return undefined;
    };
}
